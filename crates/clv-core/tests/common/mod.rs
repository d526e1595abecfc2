pub mod published;
