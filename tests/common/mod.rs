pub mod data;
pub mod frontend;
pub mod harness;
pub mod hostile;
pub mod logql;
pub mod loki;
pub mod panels;
pub mod reference;
