//! Structured metadata: typed field definitions ([`MetadataField`]) with
//! validations and datasources, the values an asset carries, and the Admin
//! API's `metadata_fields` endpoints.
//!
//! Values arrive as the SDKs encode them (`sku=AB-1|colors=["red","blue"]`,
//! the context encoding with JSON lists) and are stored typed in the asset's
//! `meta["metadata"]`: strings, integers, `YYYY-MM-DD` dates, an enum's entry
//! id, a set's list of entry ids.

use std::collections::BTreeMap;

use nubo_catalog::{AssetEdit, AssetLocator, METADATA_KEY};
use nubo_core::{CloudName, Context};
use serde_json::{json, Map, Value};

use crate::{now, Params, Result, Service, ServiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    String,
    Integer,
    Date,
    Enum,
    Set,
}

impl FieldKind {
    fn parse(raw: &str) -> Result<Self> {
        Ok(match raw {
            "string" => FieldKind::String,
            "integer" => FieldKind::Integer,
            "date" => FieldKind::Date,
            "enum" => FieldKind::Enum,
            "set" => FieldKind::Set,
            other => return Err(invalid(format!("Invalid metadata field type {other}"))),
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::Integer => "integer",
            FieldKind::Date => "date",
            FieldKind::Enum => "enum",
            FieldKind::Set => "set",
        }
    }
}

/// A validation rule of a field (Cloudinary's shapes).
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    GreaterThan { value: Value, equals: bool },
    LessThan { value: Value, equals: bool },
    Strlen { min: Option<u64>, max: Option<u64> },
    And(Vec<Rule>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub external_id: String,
    pub value: String,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetadataField {
    pub external_id: String,
    pub label: String,
    pub kind: FieldKind,
    pub mandatory: bool,
    pub default_value: Option<Value>,
    pub validation: Option<Rule>,
    pub datasource: Vec<Entry>,
}

fn invalid(msg: impl Into<String>) -> ServiceError {
    ServiceError::InvalidParam(msg.into())
}

/// Most fields a cloud may define, and entries a datasource may hold.
const MAX_FIELDS: usize = 500;
const MAX_ENTRIES: usize = 3000;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
}

/// A JSON value the body carried: objects and lists arrive as their text.
fn json_param(p: &Params, name: &str) -> Result<Option<Value>> {
    let items = p.list_raw(name);
    let listed = p.is_array(name);
    match items.as_slice() {
        [] => Ok(None),
        [one] if !listed => Ok(Some(
            serde_json::from_str(one).unwrap_or_else(|_| Value::String(one.clone())),
        )),
        many => Ok(Some(Value::Array(
            many.iter()
                .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())))
                .collect(),
        ))),
    }
}

impl Rule {
    fn parse(v: &Value) -> Result<Rule> {
        let bad = || invalid(format!("Invalid validation {v}"));
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(
            match v.get("type").and_then(Value::as_str).ok_or_else(bad)? {
                "greater_than" => Rule::GreaterThan {
                    value: v.get("value").cloned().ok_or_else(bad)?,
                    equals: flag("equals"),
                },
                "less_than" => Rule::LessThan {
                    value: v.get("value").cloned().ok_or_else(bad)?,
                    equals: flag("equals"),
                },
                "strlen" => Rule::Strlen {
                    min: v.get("min").and_then(Value::as_u64),
                    max: v.get("max").and_then(Value::as_u64),
                },
                "and" => Rule::And(
                    v.get("rules")
                        .and_then(Value::as_array)
                        .ok_or_else(bad)?
                        .iter()
                        .map(Rule::parse)
                        .collect::<Result<_>>()?,
                ),
                _ => return Err(bad()),
            },
        )
    }

    fn to_json(&self) -> Value {
        match self {
            Rule::GreaterThan { value, equals } => {
                json!({ "type": "greater_than", "value": value, "equals": equals })
            }
            Rule::LessThan { value, equals } => {
                json!({ "type": "less_than", "value": value, "equals": equals })
            }
            Rule::Strlen { min, max } => json!({ "type": "strlen", "min": min, "max": max }),
            Rule::And(rules) => {
                json!({ "type": "and", "rules": rules.iter().map(Rule::to_json).collect::<Vec<_>>() })
            }
        }
    }

    /// Checks a typed value; `None` means it passes.
    fn violation(&self, v: &Value) -> Option<String> {
        let cmp = |bound: &Value| -> Option<std::cmp::Ordering> {
            match (v, bound) {
                (Value::Number(a), b) => a
                    .as_f64()?
                    .partial_cmp(&b.as_f64().or_else(|| b.as_str()?.parse().ok())?),
                (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
                _ => None,
            }
        };
        use std::cmp::Ordering::*;
        match self {
            Rule::GreaterThan { value, equals } => match cmp(value) {
                Some(Greater) => None,
                Some(Equal) if *equals => None,
                _ => Some(format!("must be greater than {value}")),
            },
            Rule::LessThan { value, equals } => match cmp(value) {
                Some(Less) => None,
                Some(Equal) if *equals => None,
                _ => Some(format!("must be less than {value}")),
            },
            Rule::Strlen { min, max } => {
                let n = v.as_str().map_or(0, |s| s.chars().count()) as u64;
                (min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m)).then(|| {
                    format!(
                        "must be {}–{} characters long",
                        min.unwrap_or(0),
                        max.map_or("∞".into(), |m| m.to_string())
                    )
                })
            }
            Rule::And(rules) => rules.iter().find_map(|r| r.violation(v)),
        }
    }
}

impl MetadataField {
    /// A field from the body of `POST /metadata_fields`, or of `PUT` over
    /// `existing` (whose type and id cannot change).
    pub fn parse(p: &Params, existing: Option<&MetadataField>) -> Result<MetadataField> {
        let kind = match (p.get("type"), existing) {
            (Some(t), None) => FieldKind::parse(t)?,
            (None, None) => return Err(ServiceError::MissingParam("type")),
            (Some(t), Some(e)) if FieldKind::parse(t)? != e.kind => {
                return Err(invalid("The type of a metadata field cannot change"))
            }
            (_, Some(e)) => e.kind,
        };
        let label = match (p.get("label"), existing) {
            (Some(l), _) => l.to_owned(),
            (None, Some(e)) => e.label.clone(),
            (None, None) => return Err(ServiceError::MissingParam("label")),
        };
        let external_id = match existing {
            Some(e) => e.external_id.clone(),
            None => p
                .get("external_id")
                .map_or_else(|| nubo_core::random_id(16), str::to_owned),
        };
        if !valid_id(&external_id) {
            return Err(invalid(format!("Invalid external_id {external_id}")));
        }
        let mut field = MetadataField {
            external_id,
            label,
            kind,
            mandatory: p
                .flag("mandatory")?
                .or(existing.map(|e| e.mandatory))
                .unwrap_or(false),
            default_value: existing.and_then(|e| e.default_value.clone()),
            validation: existing.and_then(|e| e.validation.clone()),
            datasource: existing.map(|e| e.datasource.clone()).unwrap_or_default(),
        };
        if let Some(v) = json_param(p, "validation")? {
            field.validation = (!v.is_null()).then(|| Rule::parse(&v)).transpose()?;
        }
        if let Some(ds) = json_param(p, "datasource")? {
            let values = ds.get("values").cloned().unwrap_or(ds);
            field.datasource = Vec::new();
            field.merge_entries(&values)?;
        }
        if matches!(kind, FieldKind::Enum | FieldKind::Set) && field.datasource.is_empty() {
            return Err(invalid(
                "An enum or set field needs a datasource with values",
            ));
        }
        if let Some(d) = json_param(p, "default_value")? {
            field.default_value = match d {
                Value::Null => None,
                given => Some(field.typed(&given)?),
            };
        }
        if field.mandatory && field.default_value.is_none() {
            return Err(invalid(format!(
                "Mandatory metadata field {} needs a default_value",
                field.external_id
            )));
        }
        Ok(field)
    }

    /// Adds or renames datasource entries (`[{"external_id"?, "value"}]`).
    fn merge_entries(&mut self, values: &Value) -> Result<()> {
        let items = values
            .as_array()
            .ok_or_else(|| invalid("datasource values must be a list"))?;
        for item in items {
            let value = item
                .get("value")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("Each datasource entry needs a value"))?;
            let id = item
                .get("external_id")
                .and_then(Value::as_str)
                .map_or_else(|| nubo_core::random_id(12), str::to_owned);
            if !valid_id(&id) {
                return Err(invalid(format!("Invalid datasource external_id {id}")));
            }
            match self.datasource.iter_mut().find(|e| e.external_id == id) {
                Some(e) => {
                    e.value = value.to_owned();
                    e.active = true;
                }
                None => self.datasource.push(Entry {
                    external_id: id,
                    value: value.to_owned(),
                    active: true,
                }),
            }
        }
        if self.datasource.len() > MAX_ENTRIES {
            return Err(invalid(format!("At most {MAX_ENTRIES} datasource entries")));
        }
        Ok(())
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "type": self.kind.as_str(),
            "external_id": self.external_id,
            "label": self.label,
            "mandatory": self.mandatory,
            "default_value": self.default_value,
            "validation": self.validation.as_ref().map(Rule::to_json),
        });
        if matches!(self.kind, FieldKind::Enum | FieldKind::Set) {
            v["datasource"] = self.datasource_json();
        }
        v
    }

    fn datasource_json(&self) -> Value {
        let values: Vec<Value> = self
            .datasource
            .iter()
            .map(|e| {
                let state = if e.active { "active" } else { "inactive" };
                json!({ "external_id": e.external_id, "value": e.value, "state": state })
            })
            .collect();
        json!({ "values": values })
    }

    fn from_json(v: &Value) -> Result<MetadataField> {
        let corrupt = || ServiceError::Internal(format!("stored metadata field is not valid: {v}"));
        let entries = v["datasource"]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(MetadataField {
            external_id: v["external_id"].as_str().ok_or_else(corrupt)?.to_owned(),
            label: v["label"].as_str().unwrap_or_default().to_owned(),
            kind: FieldKind::parse(v["type"].as_str().ok_or_else(corrupt)?)?,
            mandatory: v["mandatory"].as_bool().unwrap_or(false),
            default_value: (!v["default_value"].is_null()).then(|| v["default_value"].clone()),
            validation: (!v["validation"].is_null())
                .then(|| Rule::parse(&v["validation"]))
                .transpose()?,
            datasource: entries
                .iter()
                .map(|e| Entry {
                    external_id: e["external_id"].as_str().unwrap_or_default().to_owned(),
                    value: e["value"].as_str().unwrap_or_default().to_owned(),
                    active: e["state"] != "inactive",
                })
                .collect(),
        })
    }

    /// A given value in this field's type, validated.
    pub fn typed(&self, given: &Value) -> Result<Value> {
        let bad = |why: &str| {
            invalid(format!(
                "Invalid value for metadata field {}: {why}",
                self.external_id
            ))
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let typed = match self.kind {
            FieldKind::String => Value::String(text(given)),
            FieldKind::Integer => {
                let n: i64 = text(given)
                    .trim()
                    .parse()
                    .map_err(|_| bad("not an integer"))?;
                json!(n)
            }
            FieldKind::Date => {
                let s = text(given);
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| bad("not a date (YYYY-MM-DD)"))?;
                Value::String(s)
            }
            FieldKind::Enum => {
                let id = text(given);
                self.active_entry(&id)
                    .ok_or_else(|| bad(&format!("{id} is not in its datasource")))?;
                Value::String(id)
            }
            FieldKind::Set => {
                let ids: Vec<String> = match given {
                    Value::Array(items) => items.iter().map(text).collect(),
                    Value::String(s) if s.starts_with('[') => {
                        serde_json::from_str(s).map_err(|_| bad("not a list"))?
                    }
                    other => vec![text(other)],
                };
                for id in &ids {
                    self.active_entry(id)
                        .ok_or_else(|| bad(&format!("{id} is not in its datasource")))?;
                }
                json!(ids)
            }
        };
        if let Some(why) = self.validation.as_ref().and_then(|r| r.violation(&typed)) {
            return Err(bad(&why));
        }
        Ok(typed)
    }

    fn active_entry(&self, id: &str) -> Option<&Entry> {
        self.datasource
            .iter()
            .find(|e| e.external_id == id && e.active)
    }
}

/// `metadata`: `k=v|k2=["a","b"]` (the SDKs' encoding) or a JSON object.
fn parse_values(raw: &str) -> Result<BTreeMap<String, Value>> {
    if raw.trim_start().starts_with('{') {
        return serde_json::from_str(raw).map_err(|e| invalid(format!("Invalid metadata: {e}")));
    }
    Ok(Context::parse(raw)?
        .0
        .into_iter()
        .map(|(k, v)| {
            let value = if v.starts_with('[') {
                serde_json::from_str(&v).unwrap_or(Value::String(v))
            } else {
                Value::String(v)
            };
            (k, value)
        })
        .collect())
}

impl Service {
    async fn fields(&self, cloud: &CloudName) -> Result<Vec<MetadataField>> {
        self.catalog
            .metadata_fields(cloud)
            .await?
            .iter()
            .map(MetadataField::from_json)
            .collect()
    }

    async fn field(&self, cloud: &CloudName, id: &str) -> Result<MetadataField> {
        self.fields(cloud)
            .await?
            .into_iter()
            .find(|f| f.external_id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("Metadata field {id}")))
    }

    /// The metadata an asset ends up with: `current` plus `raw` (an empty
    /// value removes a field); on upload, defaults fill what is missing.
    /// With `clear_invalid`, values that fail validation are dropped
    /// instead of refusing the call.
    pub(crate) async fn resolve_metadata(
        &self,
        cloud: &CloudName,
        current: Option<&Value>,
        raw: Option<&str>,
        upload: bool,
        clear_invalid: bool,
    ) -> Result<Option<Map<String, Value>>> {
        if raw.is_none() && !upload {
            return Ok(None);
        }
        let fields = self.fields(cloud).await?;
        let mut out: Map<String, Value> = current
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (key, given) in parse_values(raw.unwrap_or(""))? {
            let field = fields
                .iter()
                .find(|f| f.external_id == key)
                .ok_or_else(|| invalid(format!("Metadata field {key} does not exist")))?;
            let empty = matches!(&given, Value::String(s) if s.is_empty())
                || matches!(&given, Value::Array(a) if a.is_empty());
            if empty {
                out.remove(&key);
                continue;
            }
            match field.typed(&given) {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(_) if clear_invalid => {
                    out.remove(&key);
                }
                Err(e) => return Err(e),
            }
        }
        if upload {
            for f in &fields {
                if let (false, Some(d)) = (out.contains_key(&f.external_id), &f.default_value) {
                    out.insert(f.external_id.clone(), d.clone());
                }
            }
        }
        Ok(Some(out))
    }

    /// Sets metadata on one stored asset; `None` if it does not exist.
    pub(crate) async fn update_metadata(
        &self,
        loc: &AssetLocator,
        raw: &str,
        clear_invalid: bool,
    ) -> Result<Option<nubo_catalog::Asset>> {
        let Some(asset) = self.catalog.asset(loc).await? else {
            return Ok(None);
        };
        let values = self
            .resolve_metadata(
                &loc.scope.cloud,
                asset.meta.get(METADATA_KEY),
                Some(raw),
                false,
                clear_invalid,
            )
            .await?
            .unwrap_or_default();
        let mut meta = Map::new();
        meta.insert(METADATA_KEY.into(), Value::Object(values));
        let edit = AssetEdit::Replace {
            tags: None,
            context: None,
        };
        Ok(self.catalog.update_asset(loc, &edit, &meta, now()).await?)
    }

    // --- Admin API: /metadata_fields ---

    pub async fn admin_metadata_fields(&self, cloud: &CloudName) -> Result<Value> {
        let fields: Vec<Value> = self
            .fields(cloud)
            .await?
            .iter()
            .map(MetadataField::to_json)
            .collect();
        Ok(json!({ "metadata_fields": fields }))
    }

    pub async fn admin_metadata_field(&self, cloud: &CloudName, id: &str) -> Result<Value> {
        Ok(self.field(cloud, id).await?.to_json())
    }

    pub async fn admin_create_metadata_field(
        &self,
        cloud: &CloudName,
        p: &Params,
    ) -> Result<Value> {
        let field = MetadataField::parse(p, None)?;
        let existing = self.fields(cloud).await?;
        if existing.iter().any(|f| f.external_id == field.external_id) {
            return Err(ServiceError::AlreadyExists(format!(
                "Metadata field {}",
                field.external_id
            )));
        }
        if existing.len() >= MAX_FIELDS {
            return Err(invalid(format!("At most {MAX_FIELDS} metadata fields")));
        }
        self.store_field(cloud, &field).await
    }

    pub async fn admin_update_metadata_field(
        &self,
        cloud: &CloudName,
        id: &str,
        p: &Params,
    ) -> Result<Value> {
        let existing = self.field(cloud, id).await?;
        let field = MetadataField::parse(p, Some(&existing))?;
        self.store_field(cloud, &field).await
    }

    pub async fn admin_delete_metadata_field(&self, cloud: &CloudName, id: &str) -> Result<Value> {
        if !self.catalog.delete_metadata_field(cloud, id).await? {
            return Err(ServiceError::NotFound(format!("Metadata field {id}")));
        }
        Ok(json!({ "message": "ok" }))
    }

    /// `PUT /metadata_fields/{id}/datasource`: add or rename entries.
    pub async fn admin_update_datasource(
        &self,
        cloud: &CloudName,
        id: &str,
        p: &Params,
    ) -> Result<Value> {
        let mut field = self.field(cloud, id).await?;
        let values = json_param(p, "values")?.ok_or(ServiceError::MissingParam("values"))?;
        field.merge_entries(&values)?;
        self.store_field(cloud, &field).await?;
        Ok(field.datasource_json())
    }

    /// `DELETE …/datasource` (deactivate) and `POST …/datasource_restore`.
    pub async fn admin_set_entries_active(
        &self,
        cloud: &CloudName,
        id: &str,
        p: &Params,
        active: bool,
    ) -> Result<Value> {
        let mut field = self.field(cloud, id).await?;
        let ids = p.list("external_ids");
        if ids.is_empty() {
            return Err(ServiceError::MissingParam("external_ids"));
        }
        for e in field
            .datasource
            .iter_mut()
            .filter(|e| ids.contains(&e.external_id))
        {
            e.active = active;
        }
        self.store_field(cloud, &field).await?;
        Ok(field.datasource_json())
    }

    async fn store_field(&self, cloud: &CloudName, field: &MetadataField) -> Result<Value> {
        let v = field.to_json();
        self.catalog
            .put_metadata_field(cloud, &field.external_id, &v, now())
            .await?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(pairs: &[(&str, &str)]) -> Result<MetadataField> {
        MetadataField::parse(&Params::from_pairs(pairs.iter().copied()), None)
    }

    #[test]
    fn fields_parse_and_values_are_typed_and_validated() {
        let n = field(&[
            ("type", "integer"), ("external_id", "n"), ("label", "N"),
            ("validation", r#"{"type":"and","rules":[{"type":"greater_than","value":0},{"type":"less_than","value":10,"equals":true}]}"#),
        ])
        .unwrap();
        assert_eq!(n.typed(&json!("7")).unwrap(), json!(7));
        assert_eq!(n.typed(&json!("10")).unwrap(), json!(10));
        assert!(n
            .typed(&json!("0"))
            .unwrap_err()
            .to_string()
            .contains("greater than"));
        assert!(n.typed(&json!("x")).is_err());
        let d = field(&[("type", "date"), ("label", "D")]).unwrap();
        assert!(d.typed(&json!("2024-02-30")).is_err());
        assert_eq!(d.typed(&json!("2024-02-29")).unwrap(), json!("2024-02-29"));
        let s = field(&[
            ("type", "set"), ("label", "S"),
            ("datasource", r#"{"values":[{"external_id":"r","value":"Red"},{"external_id":"b","value":"Blue"}]}"#),
        ])
        .unwrap();
        assert_eq!(s.typed(&json!(["r", "b"])).unwrap(), json!(["r", "b"]));
        assert!(s.typed(&json!(["g"])).is_err());
        let st = field(&[
            ("type", "string"),
            ("label", "L"),
            ("validation", r#"{"type":"strlen","min":2,"max":3}"#),
        ])
        .unwrap();
        assert!(st.typed(&json!("a")).is_err() && st.typed(&json!("abc")).is_ok());
        assert_eq!(MetadataField::from_json(&s.to_json()).unwrap(), s);
    }

    #[test]
    fn bad_definitions_are_refused() {
        assert!(field(&[("type", "colour"), ("label", "x")]).is_err());
        assert!(
            field(&[("type", "enum"), ("label", "x")]).is_err(),
            "no datasource"
        );
        assert!(
            field(&[("type", "string"), ("label", "x"), ("mandatory", "true")]).is_err(),
            "no default"
        );
        assert!(field(&[("type", "string"), ("label", "x"), ("external_id", "a b")]).is_err());
    }

    #[test]
    fn values_in_the_sdk_encoding() {
        let v = parse_values(r#"sku=AB\=1|colors=["r","b"]|n=5"#).unwrap();
        assert_eq!(v["sku"], json!("AB=1"));
        assert_eq!(v["colors"], json!(["r", "b"]));
        assert_eq!(parse_values(r#"{"n": 5}"#).unwrap()["n"], json!(5));
    }
}
