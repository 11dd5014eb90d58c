//! Conformance checks of the job queue: leases, fencing, retries, dead
//! letters and exclusive claims under concurrency.

use super::cloud;
use crate::*;

fn job(id: &str, run_at_ms: i64, max_attempts: i64) -> NewJob {
    NewJob {
        id: id.into(),
        cloud: cloud(),
        kind: "test".into(),
        payload: serde_json::json!({"n": id}),
        run_at_ms,
        max_attempts,
        now_ms: 1_000,
        claimed: None,
    }
}

pub async fn run(cat: &dyn Catalog) {
    claims_respect_due_times_and_leases(cat).await;
    fencing_stops_a_worker_that_lost_its_lease(cat).await;
    retries_then_dead_letter(cat).await;
    concurrent_claims_are_exclusive(cat).await;
    settings_and_pruning(cat).await;
}

async fn claims_respect_due_times_and_leases(cat: &dyn Catalog) {
    cat.enqueue_job(&job("due-1", 1_000, 3)).await.unwrap();
    cat.enqueue_job(&job("later-1", 50_000, 3)).await.unwrap();
    // Enqueueing an id again changes nothing.
    let mut again = job("later-1", 1, 9);
    again.payload = serde_json::json!({"other": true});
    cat.enqueue_job(&again).await.unwrap();
    let got = cat.claim_jobs("w1", 2_000, 10_000, 10).await.unwrap();
    assert_eq!(got.len(), 1, "only the due job is claimed");
    let j = &got[0];
    assert_eq!(
        (j.id.as_str(), j.state, j.attempts),
        ("due-1", JobState::Running, 1)
    );
    assert_eq!(j.payload, serde_json::json!({"n": "due-1"}));
    assert_eq!(j.lease_until_ms, Some(12_000));
    // Leased: nobody else gets it before the lease ends.
    assert!(cat
        .claim_jobs("w2", 11_000, 10_000, 10)
        .await
        .unwrap()
        .is_empty());
    // A heartbeat moves the deadline.
    let lease = j.lease().unwrap();
    assert!(cat.extend_lease(&lease, 30_000).await.unwrap());
    assert!(cat
        .claim_jobs("w2", 20_000, 10_000, 10)
        .await
        .unwrap()
        .is_empty());
    let end = JobEnd::Done {
        detail: "ok".into(),
    };
    assert!(cat
        .finish_job(&lease, &end, 2_000, 21_000, None)
        .await
        .unwrap());
    let stored = cat.job("due-1").await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Done);
    assert_eq!(stored.lease_owner, None);
    let attempts = cat.job_attempts("due-1").await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (attempts[0].outcome.as_str(), attempts[0].owner.as_str()),
        ("done", "w1")
    );
    // Done jobs are never claimed again; the later one becomes due.
    let later = cat.claim_jobs("w2", 60_000, 10_000, 10).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].id, "later-1");
    let l = later[0].lease().unwrap();
    cat.finish_job(&l, &end, 60_000, 60_001, None)
        .await
        .unwrap();
}

async fn fencing_stops_a_worker_that_lost_its_lease(cat: &dyn Catalog) {
    cat.enqueue_job(&job("fenced", 100_000, 5)).await.unwrap();
    let first = cat.claim_jobs("slow", 100_000, 1_000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    let slow = first[0].lease().unwrap();
    // The lease runs out: another worker takes the job over.
    let second = cat.claim_jobs("fast", 102_000, 1_000, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    let fast = second[0].lease().unwrap();
    // The first worker can neither extend nor finish any more.
    assert!(!cat.extend_lease(&slow, 200_000).await.unwrap());
    let done = JobEnd::Done {
        detail: "late".into(),
    };
    // A follow-up job exists only if the job that makes it is recorded.
    let mut next = job("fenced.next", 102_600, 3);
    next.claimed = Some(Claim {
        owner: "fast".into(),
        lease_until_ms: 110_000,
    });
    assert!(!cat
        .finish_job(&slow, &done, 100_000, 102_500, Some(&next))
        .await
        .unwrap());
    assert_eq!(cat.job("fenced.next").await.unwrap(), None);
    assert!(cat
        .finish_job(&fast, &done, 102_000, 102_600, Some(&next))
        .await
        .unwrap());
    let follow = cat.job("fenced.next").await.unwrap().unwrap();
    assert_eq!(
        (follow.state, follow.attempts, follow.lease_owner.as_deref()),
        (JobState::Running, 1, Some("fast"))
    );
    // Already leased to its maker: no one else claims it.
    assert!(cat
        .claim_jobs("other", 103_000, 1_000, 10)
        .await
        .unwrap()
        .is_empty());
    let fl = follow.lease().unwrap();
    assert!(cat
        .finish_job(&fl, &done, 103_000, 103_100, None)
        .await
        .unwrap());
    let attempts = cat.job_attempts("fenced").await.unwrap();
    let outcomes: Vec<_> = attempts
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str(), a.owner.as_str()))
        .collect();
    assert_eq!(outcomes, vec![(1, "lost", "slow"), (2, "done", "fast")]);
}

async fn retries_then_dead_letter(cat: &dyn Catalog) {
    cat.enqueue_job(&job("flaky", 200_000, 2)).await.unwrap();
    let got = cat.claim_jobs("w", 200_000, 1_000, 10).await.unwrap();
    let lease = got[0].lease().unwrap();
    let retry = JobEnd::Retry {
        at_ms: 205_000,
        error: "HTTP 503".into(),
    };
    assert!(cat
        .finish_job(&lease, &retry, 200_000, 200_100, None)
        .await
        .unwrap());
    let queued = cat.job("flaky").await.unwrap().unwrap();
    assert_eq!(queued.state, JobState::Queued);
    assert_eq!(queued.last_error.as_deref(), Some("HTTP 503"));
    assert!(cat
        .claim_jobs("w", 204_999, 1_000, 10)
        .await
        .unwrap()
        .is_empty());
    let again = cat.claim_jobs("w", 205_000, 1_000, 10).await.unwrap();
    assert_eq!(again[0].attempts, 2);
    let dead = JobEnd::Dead {
        error: "HTTP 503 again".into(),
    };
    let l2 = again[0].lease().unwrap();
    assert!(cat
        .finish_job(&l2, &dead, 205_000, 205_100, None)
        .await
        .unwrap());
    assert!(cat
        .claim_jobs("w", 900_000, 1_000, 10)
        .await
        .unwrap()
        .is_empty());
    let dead_jobs = cat
        .list_jobs(&JobFilter {
            state: Some(JobState::Dead),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dead_jobs.len(), 1);
    assert_eq!(dead_jobs[0].id, "flaky");
    // An operator puts it back with one more attempt.
    assert!(cat.retry_dead_job("flaky", 300_000).await.unwrap());
    assert!(!cat.retry_dead_job("flaky", 300_000).await.unwrap());
    let revived = cat.claim_jobs("w", 300_000, 1_000, 10).await.unwrap();
    assert_eq!(revived[0].attempts, 3);
    // A lease that expires on the last attempt ends in dead, not running.
    let later = cat.claim_jobs("w", 302_000, 1_000, 10).await.unwrap();
    assert!(later.is_empty());
    let gone = cat.job("flaky").await.unwrap().unwrap();
    assert_eq!(gone.state, JobState::Dead);
    assert!(gone.last_error.unwrap().contains("gave up after 3"));
}

async fn concurrent_claims_are_exclusive(cat: &dyn Catalog) {
    const N: usize = 60;
    for i in 0..N {
        cat.enqueue_job(&job(&format!("race-{i:03}"), 400_000, 3))
            .await
            .unwrap();
    }
    let worker = |name: String| async move {
        let mut mine = Vec::new();
        loop {
            let got = cat.claim_jobs(&name, 400_000, 60_000, 3).await.unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|j| j.id));
        }
    };
    let all = futures_join(vec![
        worker("a".into()),
        worker("b".into()),
        worker("c".into()),
        worker("d".into()),
    ])
    .await;
    let mut ids: Vec<String> = all.into_iter().flatten().collect();
    let claimed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(claimed, N, "every job claimed exactly once");
    assert_eq!(ids.len(), N);
    let counts = cat.job_counts().await.unwrap();
    assert_eq!(counts.running, N as i64);
}

/// Runs futures concurrently on the current task (enough to interleave
/// their database round trips).
async fn futures_join<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let mut handles: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (h, slot) in handles.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match h.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("finished")).collect()
}

async fn settings_and_pruning(cat: &dyn Catalog) {
    let c = cloud();
    assert_eq!(
        cat.cloud_setting(&c, "notification_url").await.unwrap(),
        None
    );
    cat.set_cloud_setting(&c, "notification_url", Some("https://a.example/hook"))
        .await
        .unwrap();
    cat.set_cloud_setting(&c, "notification_url", Some("https://b.example/hook"))
        .await
        .unwrap();
    assert_eq!(
        cat.cloud_setting(&c, "notification_url")
            .await
            .unwrap()
            .as_deref(),
        Some("https://b.example/hook")
    );
    cat.set_cloud_setting(&c, "notification_url", None)
        .await
        .unwrap();
    assert_eq!(
        cat.cloud_setting(&c, "notification_url").await.unwrap(),
        None
    );
    // Done jobs from the checks above were last changed before 1,000,000.
    let before = cat.job_counts().await.unwrap();
    assert!(before.done >= 3);
    let pruned = cat.prune_jobs(1_000_000, 0).await.unwrap();
    assert_eq!(pruned, before.done as u64);
    assert!(cat.job_attempts("due-1").await.unwrap().is_empty());
    let after = cat.job_counts().await.unwrap();
    assert_eq!(after.done, 0);
    assert_eq!(after.dead, before.dead, "dead jobs are kept longer");
}
