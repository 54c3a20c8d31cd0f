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
//	page := viewer.NewPage(s, rec)
//	err = viewer.WritePage(w, page)
//
// Record runs the scenario once through [timeline.Record] with the capture
// and key log written into the artifact directory, then reads both back to
// give each timeline event the bytes of the frame it came from (see
// [Recording]). [WriteIndex] writes the page linking every scenario of a
// run, [WriteCompare] two runs of one scenario side by side, and [Server]
// serves the catalog for browsing, switching defenses and rerunning on
// 127.0.0.1.
package viewer
