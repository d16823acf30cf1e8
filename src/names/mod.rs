//! Names instead of addresses: which workload, which AWS service, which
//! network, organisation or country an address was, resolved after the
//! backend's sums (`regroup.rs`), so they work on every backend and with
//! rollups, and cost one lookup per distinct address (a pod's name: per
//! address per bucket of the names' resolution, as of that bucket).
//!
//! The sources, each optional (jsonData's `names` section, [`settings`]):
//! the datasource's own CIDR map and AWS's `ip-ranges.json`
//! ([`networks`]), an MMDB file ([`mmdb`]), kube-state-metrics'
//! `kube_pod_info` in a Prometheus-compatible store ([`kube`]). A source
//! that is missing or cannot be read names nothing: its names show the
//! address itself, with a notice; the numbers never change.

pub mod kube;
pub mod mmdb;
pub mod networks;
pub mod regroup;
pub mod settings;
mod sources;

pub use settings::NamesSettings;
pub use sources::{Names, Resolver};

/// Which side of a flow a name is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The inside address (`inside_addr`).
    Inside,
    /// The other end (`outside_addr`).
    Outside,
}

/// What a name says of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `namespace/pod` of the pod holding it.
    Pod,
    /// That pod's namespace.
    Namespace,
    /// That pod's workload, `namespace/owner`.
    Workload,
    /// That pod's node.
    Node,
    /// The datasource's CIDR map.
    Network,
    /// AWS's service (`ip-ranges.json`).
    AwsService,
    /// AWS's region (`ip-ranges.json`).
    AwsRegion,
    /// The AS number (MMDB).
    Asn,
    /// The AS's organisation (MMDB).
    Org,
    /// The country (MMDB).
    Country,
}

/// A name dimension: a field a query may group by or filter on.
#[derive(Debug, PartialEq, Eq)]
pub struct Dim {
    /// The field's name (`workload`).
    pub name: &'static str,
    /// Whose address it names.
    pub side: Side,
    /// What it says.
    pub kind: Kind,
}

impl Dim {
    /// Whether the name depends on the time (a pod's).
    pub fn timed(&self) -> bool {
        matches!(self.kind, Kind::Pod | Kind::Namespace | Kind::Workload | Kind::Node)
    }

    /// The source it needs, as settings and messages name it.
    pub fn source(&self) -> &'static str {
        match self.kind {
            Kind::Pod | Kind::Namespace | Kind::Workload | Kind::Node => "names.kubernetes",
            Kind::Network => "names.networks",
            Kind::AwsService | Kind::AwsRegion => "names.awsIpRanges",
            Kind::Asn | Kind::Org | Kind::Country => "names.mmdb",
        }
    }
}

const fn d(name: &'static str, side: Side, kind: Kind) -> Dim {
    Dim { name, side, kind }
}

/// Every name dimension.
pub const DIMS: &[Dim] = &[
    d("pod", Side::Inside, Kind::Pod),
    d("namespace", Side::Inside, Kind::Namespace),
    d("workload", Side::Inside, Kind::Workload),
    d("node", Side::Inside, Kind::Node),
    d("local_name", Side::Inside, Kind::Network),
    d("remote_pod", Side::Outside, Kind::Pod),
    d("remote_namespace", Side::Outside, Kind::Namespace),
    d("remote_workload", Side::Outside, Kind::Workload),
    d("remote_node", Side::Outside, Kind::Node),
    d("remote_name", Side::Outside, Kind::Network),
    d("remote_service", Side::Outside, Kind::AwsService),
    d("remote_region", Side::Outside, Kind::AwsRegion),
    d("remote_asn", Side::Outside, Kind::Asn),
    d("remote_org", Side::Outside, Kind::Org),
    d("remote_country", Side::Outside, Kind::Country),
];

/// The name dimension called `name`.
pub fn dim(name: &str) -> Option<&'static Dim> {
    DIMS.iter().find(|d| d.name == name)
}

/// The name of an address its source knows nothing of.
pub const UNKNOWN: &str = "(unknown)";
