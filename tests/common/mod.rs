pub mod data;
pub mod harness;
pub mod logql;
pub mod panels;
pub mod reference;
