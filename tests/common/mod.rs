pub mod data;
pub mod harness;
pub mod panels;
pub mod reference;
