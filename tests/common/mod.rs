pub mod data;
pub mod harness;
pub mod logql;
pub mod loki;
pub mod panels;
pub mod reference;
