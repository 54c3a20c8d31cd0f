// Package viewer draws a recorded run as one self-contained HTML page for a
// class: a ladder (sequence) diagram of the timeline as inline SVG, one lane
// per host, each arrow linked to the annotated bytes of its frame; the
// declared topology with the scenario's changes applied; the verdict, the
// decisive defense and the evidence tied to the frames where they happened;
// and links to the run's pcapng and key log.
//
// A page loads nothing: its CSS and script are embedded in it and it names
// no external URL, so it works offline and from a file.
//
// Recording a run:
//
//	rec, err := viewer.Record(ctx, lab.Runner{Seed: 7}, s, "out/run")
//	if err != nil { ... }
//	err = viewer.WritePage(w, viewer.NewPage(rec, "out/run"))
//
// Record runs the scenario once through [timeline.Record] with the capture
// and key log written into a directory, then reads both back to give each
// timeline event the bytes of the frame it came from (see [Recording] and
// how events are linked to frames, in link.go). The page model ([Page],
// [Ladder], [Arrow], [Detail]) is plain data the embedded template draws;
// a new fact about events reaches the page as a field there.
//
// [WriteIndex] writes the page linking every scenario of a run,
// [WriteCompare] one scenario run as declared and with a switch changed,
// side by side ([NewComparison], [FirstDifference]), [WriteMatrix] the
// defense matrix, and [Server] serves the catalog on 127.0.0.1 for
// browsing, switching defenses and rerunning (tlslab serve).
package viewer
