//! The key layout under the configured prefix (readable with `etcdctl get --prefix`):
//!
//! ```text
//! <prefix>/vschema/<keyspace>                    VSchema JSON (Vitess format)
//! <prefix>/workflows/<workflow>/<source_shard>   a stream's state (JSON)
//! <prefix>/owners/<workflow>/<source_shard>      the id of the proxy running it (leased)
//! <prefix>/proxies/<proxy id>                    a live proxy's record (JSON, leased)
//! ```
//!
//! Name parts are escaped (`%` → `%25`, `/` → `%2F`), so no name can reach into another key.

/// Key builder for one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

/// Escapes one name so it is a single key segment.
pub fn escape(name: &str) -> String {
    name.replace('%', "%25").replace('/', "%2F")
}

/// Undoes [`escape`].
pub fn unescape(segment: &str) -> String {
    segment.replace("%2F", "/").replace("%25", "%")
}

impl Keys {
    /// Keys under `prefix` (a trailing `/` is dropped).
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.trim_end_matches('/').to_string(),
        }
    }

    /// Every VSchema key starts with this.
    pub fn vschema_dir(&self) -> String {
        format!("{}/vschema/", self.prefix)
    }

    /// One keyspace's VSchema.
    pub fn vschema(&self, keyspace: &str) -> String {
        format!("{}{}", self.vschema_dir(), escape(keyspace))
    }

    /// Every stream state key starts with this.
    pub fn workflows_dir(&self) -> String {
        format!("{}/workflows/", self.prefix)
    }

    /// One workflow's stream keys start with this.
    pub fn workflow_dir(&self, workflow: &str) -> String {
        format!("{}{}/", self.workflows_dir(), escape(workflow))
    }

    /// One stream's state.
    pub fn stream(&self, workflow: &str, shard: &str) -> String {
        format!("{}{}", self.workflow_dir(workflow), escape(shard))
    }

    /// Every stream owner key starts with this.
    pub fn owners_dir(&self) -> String {
        format!("{}/owners/", self.prefix)
    }

    /// One workflow's owner keys start with this.
    pub fn owner_workflow_dir(&self, workflow: &str) -> String {
        format!("{}{}/", self.owners_dir(), escape(workflow))
    }

    /// Who runs one stream.
    pub fn owner(&self, workflow: &str, shard: &str) -> String {
        format!("{}{}", self.owner_workflow_dir(workflow), escape(shard))
    }

    /// Every proxy record key starts with this.
    pub fn proxies_dir(&self) -> String {
        format!("{}/proxies/", self.prefix)
    }

    /// One proxy's record.
    pub fn proxy(&self, id: &str) -> String {
        format!("{}{}", self.proxies_dir(), escape(id))
    }

    /// The name parts after `dir` in `key` (unescaped), or `None` when `key` is not under it.
    pub fn parts(key: &str, dir: &str) -> Option<Vec<String>> {
        let rest = key.strip_prefix(dir)?;
        Some(rest.split('/').map(unescape).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_their_segment() {
        let k = Keys::new("/sg/");
        assert_eq!(k.vschema("customer"), "/sg/vschema/customer");
        let key = k.stream("ks.v/x%", "-80");
        assert_eq!(key, "/sg/workflows/ks.v%2Fx%25/-80");
        assert_eq!(
            Keys::parts(&key, &k.workflows_dir()),
            Some(vec!["ks.v/x%".to_string(), "-80".to_string()])
        );
        assert_eq!(Keys::parts("/other/x", &k.workflows_dir()), None);
        assert_eq!(unescape(&escape("a%2Fb/c")), "a%2Fb/c");
    }
}
