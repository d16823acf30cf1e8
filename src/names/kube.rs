//! Which Kubernetes pod held an address, bucket by bucket, from
//! kube-state-metrics' `kube_pod_info` in a Prometheus-compatible store.
//! Pure: the PromQL asked, and the answer read into a [`History`].
//!
//! The rule (README, "Names"): an address is a pod's in a bucket of the
//! names' resolution when `kube_pod_info` reported the pod with that
//! `pod_ip` in the bucket (`[start, start + resolution)`). When several pods
//! were reported with it in one bucket (an address handed over), the bucket
//! goes to the one first reported latest (within the range asked, which
//! starts a bucket early); on a tie, to the greatest namespace and pod. No
//! pod reported: no name. Pods on the host network share their node's
//! address and are left out.

use std::collections::HashMap;
use std::sync::Arc;

use crate::plan::BucketMap;

/// The labels read, in key order.
pub const LABELS: [&str; 6] = ["pod_ip", "namespace", "pod", "created_by_kind", "created_by_name", "node"];

/// The query whose matrix, at a step of `resolution_ms` read `offset 1ms`
/// (a point stamped `T` counts the samples of `[T - resolution, T)`), says
/// in which buckets each pod was reported with each address.
pub fn presence_query(resolution_ms: i64) -> String {
    format!(
        "sum by ({}) (count_over_time(kube_pod_info{{pod_ip!=\"\", host_network!=\"true\"}}[{}] offset 1ms))",
        LABELS.join(", "),
        crate::time::duration(resolution_ms)
    )
}

/// A pod's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// `namespace/pod`.
    pub pod: String,
    /// Its namespace.
    pub namespace: String,
    /// `namespace/owner`: its controller, a ReplicaSet as its Deployment;
    /// the pod itself when it has none.
    pub workload: String,
    /// Its node (empty when not reported).
    pub node: String,
}

/// The owner a pod's workload is named after: a ReplicaSet's Deployment
/// (the name without its last `-<pod-template-hash>`), any other
/// controller itself, the pod when it has none (`<none>`).
pub fn workload(kind: &str, owner: &str, pod: &str) -> String {
    if owner.is_empty() || owner == "<none>" {
        return pod.to_string();
    }
    if kind == "ReplicaSet" {
        if let Some((deployment, hash)) = owner.rsplit_once('-') {
            if !deployment.is_empty()
                && (4..=10).contains(&hash.len())
                && hash.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return deployment.to_string();
            }
        }
    }
    owner.to_string()
}

/// One pod's reports of one address.
#[derive(Debug)]
struct Tenure {
    pod: Arc<Pod>,
    /// Its first bucket (within the range asked).
    first: i64,
    /// The buckets it was reported in.
    buckets: std::collections::BTreeSet<i64>,
}

/// Who held which address when.
#[derive(Debug, Default)]
pub struct History {
    resolution_ms: i64,
    by_addr: HashMap<String, Vec<Tenure>>,
}

impl History {
    /// The presence query's answer (keys in [`LABELS`] order, buckets by
    /// start) as a history at `resolution_ms`.
    pub fn from_buckets(answer: BucketMap, resolution_ms: i64) -> Self {
        let mut by_addr: HashMap<String, Vec<Tenure>> = HashMap::new();
        for (key, buckets) in answer {
            let [ip, namespace, pod, kind, owner, node] = <[String; 6]>::try_from(key).unwrap_or_default();
            let buckets: std::collections::BTreeSet<i64> =
                buckets.into_iter().filter(|(_, n)| *n > 0).map(|(t, _)| t).collect();
            let Some(&first) = buckets.first() else { continue };
            if ip.is_empty() {
                continue;
            }
            let pod = Arc::new(Pod {
                workload: format!("{namespace}/{}", workload(&kind, &owner, &pod)),
                pod: format!("{namespace}/{pod}"),
                namespace,
                node,
            });
            by_addr.entry(ip).or_default().push(Tenure { pod, first, buckets });
        }
        Self { resolution_ms, by_addr }
    }

    /// The pod that held `addr` in the bucket holding `t_ms`.
    pub fn holder(&self, addr: &str, t_ms: i64) -> Option<&Pod> {
        let bucket = t_ms.div_euclid(self.resolution_ms) * self.resolution_ms;
        self.by_addr
            .get(addr)?
            .iter()
            .filter(|t| t.buckets.contains(&bucket))
            .max_by(|a, b| (a.first, &a.pod.namespace, &a.pod.pod).cmp(&(b.first, &b.pod.namespace, &b.pod.pod)))
            .map(|t| &*t.pod)
    }

    /// How many addresses some pod held.
    pub fn addresses(&self) -> usize {
        self.by_addr.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_owners_with_replica_sets_as_deployments() {
        assert_eq!(workload("ReplicaSet", "checkout-7d9f8b6c5d", "checkout-7d9f8b6c5d-x2x9z"), "checkout");
        assert_eq!(workload("ReplicaSet", "my-app-5c8f9", "p"), "my-app");
        assert_eq!(workload("ReplicaSet", "plain", "p"), "plain");
        assert_eq!(workload("StatefulSet", "db", "db-0"), "db");
        assert_eq!(workload("DaemonSet", "agent-abcde", "agent-abcde-q"), "agent-abcde");
        assert_eq!(workload("<none>", "<none>", "static-pod"), "static-pod");
        assert_eq!(workload("", "", "bare"), "bare");
    }

    #[test]
    fn a_handed_over_address_goes_to_the_newer_pod_and_gaps_to_nobody() {
        let key = |ns: &str, pod: &str| {
            ["10.0.0.5", ns, pod, "ReplicaSet", &format!("{pod}-abcde"), "n1"].map(String::from).to_vec()
        };
        let mut answer = BucketMap::new();
        answer.insert(key("a", "old"), [(0, 2), (60_000, 2), (120_000, 1)].into());
        answer.insert(key("b", "new"), [(120_000, 1), (180_000, 2)].into());
        let h = History::from_buckets(answer, 60_000);
        let at = |t| h.holder("10.0.0.5", t).map(|p| p.pod.clone());
        assert_eq!(at(59_999).as_deref(), Some("a/old"));
        assert_eq!(at(120_000).as_deref(), Some("b/new"));
        assert_eq!(at(179_999).as_deref(), Some("b/new"));
        assert_eq!(at(240_000), None);
        assert_eq!(h.holder("10.0.0.6", 0), None);
        assert_eq!(h.holder("10.0.0.5", 0).unwrap().workload, "a/old");
    }
}
