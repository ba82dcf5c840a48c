// Stands in for the `source-map` package in the bundle (scripts/bundle.mjs). Handlebars
// loads it only to map compiled templates back to their source, which we never ask for
// (no `srcName`); without it, Handlebars builds the same code with a plain string
// builder, as in its browser build: templates compile faster, and 60 KB less is parsed.
module.exports = {};
