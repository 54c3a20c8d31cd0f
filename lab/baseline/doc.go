// Package baseline stores the outcomes of a run or a matrix in a file and
// compares later runs with it, so that a change that flips a verdict,
// changes the defenses that stop an attack, or changes what an attack
// costs the victim fails a build.
//
// A [Baseline] maps cell names to [Cell]s: the verdict, every defense
// credited with a refusal in order (lab.Result.StoppedBy), and the
// victim's service; an error cell stores its verdict alone. [OfRun] names
// cells after scenarios ([KindRun]); [OfMatrix] names them "scenario
// [column]" with matrix.CellName ([KindMatrix]).
//
//	stored, err := baseline.Read("matrix.json", baseline.KindMatrix)
//	// ...
//	for _, c := range stored.Compare(baseline.OfMatrix(res), true) {
//		fmt.Println(c) // "mitm/x [hardened]: was held (revocation), service denied, now broken, service intact"
//	}
//
// [Write] writes the file format documented on Baseline, one cell per line
// sorted by name, byte for byte the same for the same outcomes. [Read]
// accepts exactly that format and kind and nothing else: every failure is
// a *[FileError] naming the file and, where it has one, the line.
package baseline
