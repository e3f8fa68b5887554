//! `GET /openapi.json` documents every route, and every documented operation is routed and
//! answers with one of its documented status codes.

use serde_json::Value;

use crate::harness::*;

cluster_test!(openapi_document_matches_the_router, Cluster::new(&["--voters", "1"]), scenario);

async fn scenario(c: &mut Cluster) -> anyhow::Result<()> {
    c.form(1).await?;
    let url = c.url(1);
    let (code, doc) = c.get(&format!("{url}/openapi.json")).await?;
    assert_eq!(code, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/connectors",
        "/connectors/{connector}/offsets",
        "/connector-plugins/{plugin}/config/validate",
        "/admin/loggers/{logger}",
        "/cluster/log",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            // Every $ref resolves.
            for r in op.to_string().split("#/components/schemas/").skip(1) {
                let name: String = r.chars().take_while(|ch| ch.is_alphanumeric()).collect();
                assert!(schemas.contains_key(&name), "{method} {path}: unknown schema {name}");
            }
            let concrete = path
                .replace("{connector}", "no-such-connector")
                .replace("{task}", "0")
                .replace("{plugin}", "FileStreamSource")
                .replace("{logger}", "root")
                .replace("{id}", "99");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
            let mut req = c.http.request(m, format!("{url}{concrete}"));
            if op.get("requestBody").is_some() {
                req = req.header("content-type", "application/json").body("{}");
            }
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {path} is not routed");
            assert_ne!(body["message"], "HTTP 404 Not Found", "{method} {path} fell through to the fallback");
            let documented: Vec<u16> =
                op["responses"].as_object().unwrap().keys().filter_map(|k| k.parse().ok()).collect();
            assert!(
                documented.contains(&status),
                "{method} {path} answered {status}, documented {documented:?}: {body}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 30, "only {operations} operations documented");
    Ok(())
}
