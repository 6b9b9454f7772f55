//! Input: the TOML spec ([`spec`]), raw tables and CSV files ([`table`]), and the dataset the
//! solver sees ([`data`]). Every error names the file, key or row.

pub mod data;
pub mod spec;
pub mod table;
