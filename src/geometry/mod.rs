//! Geometry of the hyperplane arrangement: the exact cells ([`arrangement`], [`cells`], the
//! streamed sweep [`sweep`] and walk [`swept`], the four-column [`vertex_walk`]), the activation's slopes on a cell
//! ([`slopes`]), the support of a cone's unit ball ([`cone`], and by faces in three dimensions [`cone3`]), each pattern's dual constraint
//! ([`dual`]), the local search for violated cells ([`search`]), and the seminorm reduction for unpenalized biases ([`unpenalized`]).

pub mod arrangement;
pub mod cell_bounds;
pub mod cells;
pub mod cone;
pub mod cone3;
pub mod dual;
pub mod search;
pub mod slopes;
pub mod sweep;
pub mod swept;
pub mod unpenalized;
pub mod vertex_walk;
