// Package flowfile works on flow files as text that people keep in git:
// the canonical formatting that `sluice fmt` and a deploy write, the
// semantic diff of `sluice diff` (also git's external diff), and the
// three-way merge of `sluice merge-driver`.
//
// # Canonical form
//
// The canonical form is chosen so that an edit in the editor changes only the
// lines of the nodes it touched, and so that two files holding the same nodes
// format to the same bytes:
//
//   - Entries come tab by tab in the file's tab order (the order of the
//     editor's tab bar), each tab followed by the nodes whose z names it;
//     then the subflow definitions in file order, each followed by its nodes;
//     then nodes whose z names a flow that is not in the file, grouped by that
//     z; then the nodes without z (global config nodes). Within each group
//     nodes are ordered by id (the order the editor happens to keep is not
//     significant in Node-RED and would churn the diff). Entries that are not
//     objects with a string id come last, in file order.
//   - Keys of a node come in a fixed order: id, type, z, g, name, then the
//     properties of the node type's spec in spec order, then any other
//     property in the order the file had it, then x, y and wires.
//   - Each node is an indented object with one key per line; every value,
//     wires included, is compact JSON on that line. Function code and
//     templates stay JSON strings (with \n escapes): `sluice diff` shows them
//     as line diffs.
//
// Formatting is lossless at the level of JSON values (every node keeps every
// property and value; numbers are printed as JavaScript prints them, so 1.0
// becomes 1) and idempotent.
package flowfile
