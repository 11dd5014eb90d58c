//! Face and custom coordinates: `x,y,w,h|x,y,w,h` as the APIs take them,
//! `[[x,y,w,h],…]` as assets store them, and what renders read.

use nubo_catalog::Asset;
use serde_json::{json, Value};

use crate::{Result, ServiceError};

/// Most boxes one asset keeps.
const MAX_BOXES: usize = 100;

/// `x,y,w,h|x,y,w,h` into `[[x,y,w,h],…]`; empty clears them (`null`).
pub(crate) fn parse_coordinates(key: &str, raw: &str) -> Result<Value> {
    let bad = || ServiceError::InvalidParam(format!("Invalid {key}: {raw} (use x,y,w,h|x,y,w,h)"));
    let mut boxes = Vec::new();
    for part in raw.split('|').filter(|p| !p.trim().is_empty()) {
        let nums: Vec<u32> = part
            .split(',')
            .map(|n| n.trim().parse::<u32>().map_err(|_| bad()))
            .collect::<Result<_>>()?;
        if nums.len() != 4 || nums[2] == 0 || nums[3] == 0 || boxes.len() >= MAX_BOXES {
            return Err(bad());
        }
        boxes.push(json!(nums));
    }
    Ok(if boxes.is_empty() {
        Value::Null
    } else {
        Value::Array(boxes)
    })
}

fn boxes(v: Option<&Value>) -> Option<Vec<[u32; 4]>> {
    let list = v?.as_array()?;
    let parsed: Vec<[u32; 4]> = list
        .iter()
        .filter_map(|b| {
            let n: Vec<u32> = b
                .as_array()?
                .iter()
                .filter_map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok()))
                .collect();
            <[u32; 4]>::try_from(n).ok()
        })
        .collect();
    (!parsed.is_empty()).then_some(parsed)
}

/// The `face_coordinates` stored with an asset, if any (they override
/// detection).
pub(crate) fn stored_faces(asset: &Asset) -> Option<&Value> {
    asset.meta.get("face_coordinates").filter(|v| !v.is_null())
}

/// The coordinates a render of `asset` starts from.
pub(crate) fn of_asset(asset: &Asset) -> nubo_engine::Coordinates {
    nubo_engine::Coordinates {
        faces: boxes(stored_faces(asset)),
        custom: boxes(asset.meta.get("custom_coordinates")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_parse_store_and_read_back() {
        let v = parse_coordinates("face_coordinates", "1,2,3,4|5,6,7,8").unwrap();
        assert_eq!(v, json!([[1, 2, 3, 4], [5, 6, 7, 8]]));
        assert_eq!(boxes(Some(&v)), Some(vec![[1, 2, 3, 4], [5, 6, 7, 8]]));
        assert_eq!(
            parse_coordinates("custom_coordinates", "").unwrap(),
            Value::Null
        );
        assert_eq!(boxes(Some(&Value::Null)), None);
        for bad in ["1,2,3", "1,2,3,x", "-1,2,3,4", "1,2,0,4", "1,2,3,4,5"] {
            assert!(parse_coordinates("face_coordinates", bad).is_err(), "{bad}");
        }
    }
}
