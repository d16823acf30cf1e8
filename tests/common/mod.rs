pub mod data;
pub mod frontend;
pub mod harness;
pub mod hostile;
pub mod panels;
pub mod reference;
