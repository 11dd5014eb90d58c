//! `nubo admin …`: the Admin API from the command line, over HTTP, with the
//! credentials and server of `CLOUDINARY_URL` (as an app would use them).
//! Tables by default, `--json` for scripts, a progress bar on bulk deletes.

use std::io::Write;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct AdminArgs {
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Resource type.
    #[arg(long, global = true, default_value = "image")]
    resource_type: String,
    /// Delivery type.
    #[arg(long = "type", global = true, default_value = "upload")]
    delivery_type: String,
    #[command(subcommand)]
    action: AdminAction,
}

#[derive(Subcommand, Debug)]
enum AdminAction {
    /// List resources, newest first.
    Ls {
        /// Public-id prefix (a folder is `folder/`).
        prefix: Option<String>,
        /// Only resources with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Resources per page.
        #[arg(long, default_value_t = 50)]
        max: u32,
        /// Follow next_cursor to the end.
        #[arg(long)]
        all: bool,
    },
    /// Show one resource's details.
    Show { public_id: String },
    /// Delete resources by id, prefix or tag (derived files only with --keep-original).
    Rm {
        public_ids: Vec<String>,
        #[arg(long, conflicts_with_all = ["public_ids", "tag"])]
        prefix: Option<String>,
        #[arg(long, conflicts_with = "public_ids")]
        tag: Option<String>,
        #[arg(long)]
        keep_original: bool,
    },
    /// Add, remove or replace a tag on resources.
    Tag {
        /// add, remove or replace
        command: String,
        tag: String,
        #[arg(required = true)]
        public_ids: Vec<String>,
    },
    /// Search with Cloudinary's expression language.
    Search {
        expression: String,
        /// field or field:asc|desc
        #[arg(long)]
        sort: Option<String>,
        #[arg(long, default_value_t = 50)]
        max: u32,
        /// format, resource_type, type or tags
        #[arg(long)]
        aggregate: Vec<String>,
    },
    /// Upload presets: ls, show NAME, create NAME [--unsigned] [--set k=v…], rm NAME.
    Preset {
        verb: String,
        name: Option<String>,
        #[arg(long)]
        unsigned: bool,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Webhook deliveries and their attempts: ls (default), show ID, retry ID.
    Webhooks {
        verb: Option<String>,
        id: Option<String>,
        /// queued, running, done or dead
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        max: u32,
    },
    /// Named transformations: ls, show NAME, create NAME DEFINITION, rm NAME.
    Transformation {
        verb: String,
        name: Option<String>,
        definition: Option<String>,
    },
}

/// Where and as whom to call: parsed from `CLOUDINARY_URL`.
struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Client {
    fn from_env() -> anyhow::Result<Client> {
        let raw = std::env::var("CLOUDINARY_URL").context(
            "set CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD?upload_prefix=http://HOST:PORT",
        )?;
        let url = url::Url::parse(&raw).context("CLOUDINARY_URL is not a URL")?;
        if url.scheme() != "cloudinary" {
            bail!("CLOUDINARY_URL must start with cloudinary://");
        }
        let cloud = url.host_str().context("CLOUDINARY_URL names no cloud")?;
        let prefix = url
            .query_pairs()
            .find(|(k, _)| k == "upload_prefix")
            .map_or_else(
                || "http://127.0.0.1:8080".to_owned(),
                |(_, v)| v.into_owned(),
            );
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Ok(Client {
            http: reqwest::Client::new(),
            base: format!("{}/v1_1/{cloud}", prefix.trim_end_matches('/')),
            key: decode(url.username()),
            secret: decode(url.password().unwrap_or("")),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .basic_auth(&self.key, Some(&self.secret));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.with_context(|| format!("calling {url}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("{status} from {url}: not JSON: {text}"))?;
        if let Some(msg) = value["error"]["message"].as_str() {
            bail!("{status}: {msg}");
        }
        Ok(value)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }
}

/// Percent-encodes one path segment (public ids keep their slashes).
fn seg(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

fn query(pairs: &[(&str, String)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let c = Client::from_env()?;
    let (rt, dt) = (args.resource_type.as_str(), args.delivery_type.as_str());
    let out = |v: &Value, table: &dyn Fn(&Value)| {
        if args.json {
            println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
        } else {
            table(v);
        }
    };
    match args.action {
        AdminAction::Ls {
            prefix,
            tag,
            max,
            all,
        } => {
            let base = match &tag {
                Some(t) => format!("resources/{rt}/tags/{}", seg(t)),
                None => format!("resources/{rt}/{dt}"),
            };
            let mut cursor: Option<String> = None;
            loop {
                let mut q = vec![("max_results", max.to_string()), ("tags", "true".into())];
                if let Some(p) = &prefix {
                    q.push(("prefix", p.clone()));
                }
                if let Some(cur) = &cursor {
                    q.push(("next_cursor", cur.clone()));
                }
                let page = c.get(&format!("{base}?{}", query(&q))).await?;
                out(&page, &|v| {
                    resource_table(&v["resources"], cursor.is_none())
                });
                cursor = page["next_cursor"].as_str().map(str::to_owned);
                if !all || cursor.is_none() {
                    break;
                }
            }
        }
        AdminAction::Show { public_id } => {
            let v = c
                .get(&format!("resources/{rt}/{dt}/{}", seg(&public_id)))
                .await?;
            out(&v, &|v| {
                for key in [
                    "public_id",
                    "asset_id",
                    "format",
                    "bytes",
                    "width",
                    "height",
                    "version",
                    "created_at",
                    "secure_url",
                ] {
                    println!("{key:<12} {}", plain(&v[key]));
                }
                println!("{:<12} {}", "tags", plain(&v["tags"]));
                println!("{:<12} {}", "context", plain(&v["context"]["custom"]));
                for d in v["derived"].as_array().into_iter().flatten() {
                    println!(
                        "{:<12} {} ({} bytes) {}",
                        "derived",
                        plain(&d["transformation"]),
                        d["bytes"],
                        plain(&d["id"])
                    );
                }
            });
        }
        AdminAction::Rm {
            public_ids,
            prefix,
            tag,
            keep_original,
        } => {
            if !public_ids.is_empty() {
                let body = json!({ "public_ids": public_ids, "keep_original": keep_original });
                let v = c
                    .call(
                        reqwest::Method::DELETE,
                        &format!("resources/{rt}/{dt}"),
                        Some(body),
                    )
                    .await?;
                out(&v, &|v| deleted_table(&v["deleted"]));
            } else if prefix.is_some() || tag.is_some() {
                bulk_delete(&c, rt, dt, prefix, tag, keep_original, args.json).await?;
            } else {
                bail!("name public ids, or --prefix or --tag");
            }
        }
        AdminAction::Tag {
            command,
            tag,
            public_ids,
        } => {
            if !["add", "remove", "replace"].contains(&command.as_str()) {
                bail!("tag command is add, remove or replace");
            }
            let body =
                json!({ "command": command, "tag": tag, "public_ids": public_ids, "type": dt });
            // The Upload API's `tags` call; Nubo also takes Basic auth there.
            let v = c
                .call(reqwest::Method::POST, &format!("{rt}/tags"), Some(body))
                .await?;
            out(&v, &|v| {
                println!("{} {command}: {}", tag, plain(&v["public_ids"]))
            });
        }
        AdminAction::Search {
            expression,
            sort,
            max,
            aggregate,
        } => {
            let mut body =
                json!({ "expression": expression, "max_results": max, "with_field": ["tags"] });
            if let Some(s) = sort {
                let (k, d) = s.split_once(':').unwrap_or((&s, "desc"));
                body["sort_by"] = json!([{ k: d }]);
            }
            if !aggregate.is_empty() {
                body["aggregate"] = json!(aggregate);
            }
            let v = c
                .call(reqwest::Method::POST, "resources/search", Some(body))
                .await?;
            out(&v, &|v| {
                resource_table(&v["resources"], true);
                println!(
                    "{} of {} ({} ms)",
                    v["resources"].as_array().map_or(0, Vec::len),
                    v["total_count"],
                    v["time"]
                );
                for (field, counts) in v["aggregations"].as_object().into_iter().flatten() {
                    println!("{field}: {}", plain(counts));
                }
            });
        }
        AdminAction::Preset {
            verb,
            name,
            unsigned,
            settings,
        } => preset(&c, &verb, name, unsigned, settings, &out).await?,
        AdminAction::Transformation {
            verb,
            name,
            definition,
        } => transformation(&c, &verb, name, definition, &out).await?,
        AdminAction::Webhooks {
            verb,
            id,
            state,
            max,
        } => webhooks(&c, verb.as_deref().unwrap_or("ls"), id, state, max, &out).await?,
    }
    Ok(())
}

async fn webhooks(
    c: &Client,
    verb: &str,
    id: Option<String>,
    state: Option<String>,
    max: u32,
    out: &Out<'_>,
) -> anyhow::Result<()> {
    let need = || id.clone().context("name the webhook delivery (its id)");
    match verb {
        "ls" => {
            let mut q = vec![("max_results", max.to_string())];
            if let Some(s) = state {
                q.push(("state", s));
            }
            let v = c.get(&format!("webhooks?{}", query(&q))).await?;
            out(&v, &|v| {
                println!(
                    "{:<32} {:<7} {:>8}  {:<24} {:<22} URL",
                    "ID", "STATE", "ATTEMPTS", "CREATED", "TYPE"
                );
                for w in v["webhooks"].as_array().into_iter().flatten() {
                    println!(
                        "{:<32} {:<7} {:>8}  {:<24} {:<22} {}",
                        plain(&w["id"]),
                        plain(&w["state"]),
                        format!("{}/{}", w["attempts"], w["max_attempts"]),
                        plain(&w["created_at"]),
                        plain(&w["notification_type"]),
                        plain(&w["url"])
                    );
                    for a in w["history"].as_array().into_iter().flatten() {
                        println!(
                            "    #{} {} at {}: {}",
                            a["attempt"],
                            plain(&a["outcome"]),
                            plain(&a["finished_at"]),
                            plain(&a["detail"])
                        );
                    }
                }
                let q = &v["queue"];
                println!(
                    "queue: {} queued, {} running, {} done, {} dead",
                    q["queued"], q["running"], q["done"], q["dead"]
                );
            });
        }
        "show" => {
            let v = c.get(&format!("webhooks/{}", seg(&need()?))).await?;
            out(&v, &|v| {
                println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"))
            });
        }
        "retry" => {
            let path = format!("webhooks/{}/retry", seg(&need()?));
            let v = c
                .call(reqwest::Method::POST, &path, Some(json!({})))
                .await?;
            out(&v, &|v| {
                println!("{} {}", plain(&v["message"]), plain(&v["id"]))
            });
        }
        other => bail!("unknown verb {other}: use ls, show or retry"),
    }
    Ok(())
}

type Out<'a> = dyn Fn(&Value, &dyn Fn(&Value)) + 'a;

async fn preset(
    c: &Client,
    verb: &str,
    name: Option<String>,
    unsigned: bool,
    settings: Vec<String>,
    out: &Out<'_>,
) -> anyhow::Result<()> {
    let need = || name.clone().context("name the preset");
    let v = match verb {
        "ls" => c.get("upload_presets").await?,
        "show" => c.get(&format!("upload_presets/{}", seg(&need()?))).await?,
        "create" => {
            let mut body = json!({ "name": need()?, "unsigned": unsigned });
            for kv in &settings {
                let (k, v) = kv
                    .split_once('=')
                    .with_context(|| format!("--set {kv}: use KEY=VALUE"))?;
                body[k] = json!(v);
            }
            c.call(reqwest::Method::POST, "upload_presets", Some(body))
                .await?
        }
        "rm" => {
            c.call(
                reqwest::Method::DELETE,
                &format!("upload_presets/{}", seg(&need()?)),
                None,
            )
            .await?
        }
        other => bail!("preset {other}: use ls, show, create or rm"),
    };
    out(&v, &|v| match v["presets"].as_array() {
        Some(list) => {
            for p in list {
                let kind = if p["unsigned"] == json!(true) {
                    "unsigned"
                } else {
                    "signed"
                };
                println!(
                    "{:<24} {kind:<9} {}",
                    plain(&p["name"]),
                    plain(&p["settings"])
                );
            }
        }
        None => println!("{}", plain(v)),
    });
    Ok(())
}

async fn transformation(
    c: &Client,
    verb: &str,
    name: Option<String>,
    definition: Option<String>,
    out: &Out<'_>,
) -> anyhow::Result<()> {
    let need = || name.clone().context("name the transformation");
    let v = match verb {
        "ls" => c.get("transformations?named=true").await?,
        "show" => {
            c.get(&format!(
                "transformations?{}",
                query(&[("transformation", need()?)])
            ))
            .await?
        }
        "create" => {
            let def = definition
                .clone()
                .context("give the definition, e.g. c_fill,w_100,h_100")?;
            c.call(
                reqwest::Method::POST,
                "transformations",
                Some(json!({ "name": need()?, "transformation": def })),
            )
            .await?
        }
        "rm" => {
            c.call(
                reqwest::Method::DELETE,
                "transformations",
                Some(json!({ "transformation": need()? })),
            )
            .await?
        }
        other => bail!("transformation {other}: use ls, show, create or rm"),
    };
    out(&v, &|v| match v["transformations"].as_array() {
        Some(list) => {
            for t in list {
                let strict = if t["allowed_for_strict"] == json!(true) {
                    "strict-ok"
                } else {
                    ""
                };
                println!("{:<32} {strict}", plain(&t["name"]));
            }
        }
        None => println!("{}", plain(v)),
    });
    Ok(())
}

/// Deletes by prefix or tag in the API's batches, drawing a progress bar
/// against the total a search reports first.
async fn bulk_delete(
    c: &Client,
    rt: &str,
    dt: &str,
    prefix: Option<String>,
    tag: Option<String>,
    keep_original: bool,
    json_out: bool,
) -> anyhow::Result<()> {
    let (expression, path, mut body) = match (&prefix, &tag) {
        (Some(p), _) => (
            format!(
                "resource_type={rt} AND type={dt} AND public_id:{}*",
                escape_word(p)
            ),
            format!("resources/{rt}/{dt}"),
            json!({ "prefix": p, "keep_original": keep_original }),
        ),
        (None, Some(t)) => (
            format!("resource_type={rt} AND tags={}", escape_word(t)),
            format!("resources/{rt}/tags/{}", seg(t)),
            json!({ "keep_original": keep_original }),
        ),
        (None, None) => unreachable!("checked by the caller"),
    };
    let total = c
        .call(
            reqwest::Method::POST,
            "resources/search",
            Some(json!({ "expression": expression, "max_results": 1 })),
        )
        .await?["total_count"]
        .as_u64()
        .unwrap_or(0);
    let mut done = 0u64;
    let mut all = serde_json::Map::new();
    loop {
        let v = c
            .call(reqwest::Method::DELETE, &path, Some(body.clone()))
            .await?;
        let batch = v["deleted"].as_object().cloned().unwrap_or_default();
        done += batch.len() as u64;
        all.extend(batch);
        if !json_out {
            progress(done, total.max(done));
        }
        match v["next_cursor"].as_str() {
            Some(cur) if v["partial"] == json!(true) => body["next_cursor"] = json!(cur),
            _ => break,
        }
    }
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "deleted": all }))?
        );
    } else {
        eprintln!();
        println!("deleted {done} resources");
    }
    Ok(())
}

/// Text as one unquoted word of the search language (so a `*` may follow).
fn escape_word(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_whitespace() || "()[]:=<>\"\\*-".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn progress(done: u64, total: u64) {
    const WIDTH: u64 = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| if i < filled { '#' } else { '-' })
        .collect();
    eprint!("\r[{bar}] {done}/{total}");
    let _ = std::io::stderr().flush();
}

/// A JSON value as a person reads it: strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn resource_table(resources: &Value, header: bool) {
    if header {
        println!(
            "{:<40} {:<6} {:>10} {:>11} {:<20} tags",
            "public_id", "format", "bytes", "size", "created"
        );
    }
    for r in resources.as_array().into_iter().flatten() {
        let size = match (r["width"].as_i64(), r["height"].as_i64()) {
            (Some(w), Some(h)) => format!("{w}x{h}"),
            _ => String::new(),
        };
        let tags: Vec<String> = r["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(plain)
            .collect();
        println!(
            "{:<40} {:<6} {:>10} {:>11} {:<20} {}",
            plain(&r["public_id"]),
            plain(&r["format"]),
            plain(&r["bytes"]),
            size,
            plain(&r["created_at"]),
            tags.join(",")
        );
    }
}

fn deleted_table(deleted: &Value) {
    for (id, state) in deleted.as_object().into_iter().flatten() {
        println!("{:<40} {}", id, plain(state));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_keep_slashes_and_encode_the_rest() {
        assert_eq!(super::seg("a/b c%"), "a/b%20c%25");
    }

    #[test]
    fn escaped_words_parse_back_to_themselves() {
        for raw in ["a b", "x:y*", "-lead", "q\"uote", "plain/path"] {
            let expr = format!("public_id:{}*", super::escape_word(raw));
            let parsed = nubo_core::search::parse(&expr).unwrap().unwrap();
            let nubo_core::search::Expr::Term(t) = parsed else {
                panic!("{expr}")
            };
            assert_eq!(
                t.test,
                nubo_core::search::Test::Prefix(raw.to_owned()),
                "{expr}"
            );
        }
    }
}
