//! The OpenAPI document served at `/v1/openapi.json`, kept beside the code; a test
//! checks that it parses and names every route of the wire contract
//! (`api::routes`).

/// The document.
pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    #[test]
    fn document_parses_and_lists_the_routes() {
        let document: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        let paths = document["paths"].as_object().unwrap();
        for path in [
            "/v1/sys/health",
            "/v1/sys/ready",
            "/v1/sys/status",
            "/v1/sys/init",
            "/v1/sys/unseal",
            "/v1/sys/seal",
            "/v1/sys/rotate-root",
            "/v1/sys/seal/migrate",
            "/v1/sys/seal/migrate/complete",
            "/v1/sys/seal/migrate/cancel",
            "/v1/tenants/{tenant}/rotate-key",
            "/v1/keys",
            "/v1/keys/{ref}",
            "/v1/keys/{ref}/material",
            "/v1/keys/{ref}/rotate",
            "/v1/keys/{ref}/revoke",
            "/v1/auth/tokens",
            "/v1/auth/tokens/{id}",
            "/v1/auth/self",
            "/v1/audit/records",
            "/v1/audit/verify",
            "/v1/openapi.json",
            "/metrics",
            "/v1/ca",
            "/v1/ca/rotate",
            "/v1/ca/status",
            "/v1/nodes",
            "/v1/nodes/join",
            "/v1/nodes/renew",
            "/v1/nodes/heartbeat",
            "/v1/nodes/tokens",
            "/v1/nodes/tokens/{id}",
            "/v1/nodes/tokens/{id}/rotate",
            "/v1/nodes/{id}",
            "/v1/nodes/{id}/decommission",
            "/v1/nodes/{id}/labels",
            "/v1/policies",
            "/v1/policies/check",
            "/v1/policies/{name}",
            "/v1/secrets/{reference}/deliver",
        ] {
            assert!(paths.contains_key(path), "{path} missing from openapi.json");
        }
    }

    /// A route's pattern with its placeholders unnamed: the document names
    /// them for people (`{ref}`), the code for the handler (`{reference}`).
    fn unnamed(pattern: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for character in pattern.chars() {
            match character {
                '{' => {
                    inside = true;
                    out.push_str("{}");
                }
                '}' => inside = false,
                other if !inside => out.push(other),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn every_json_route_of_the_wire_contract_is_documented() {
        let document: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        let documented: std::collections::BTreeSet<String> = document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(|path| unnamed(path))
            .collect();
        // KMIP over HTTPS speaks TTLV, not JSON: docs/kmip.md describes it.
        let ttlv = [api::routes::KMIP_BINARY, api::routes::KMIP_JSON];
        for route in api::routes::ALL {
            if !ttlv.contains(route) {
                assert!(
                    documented.contains(&unnamed(route)),
                    "{route} is missing from openapi.json"
                );
            }
        }
        assert_eq!(documented.len(), api::routes::ALL.len() - ttlv.len());
    }
}
