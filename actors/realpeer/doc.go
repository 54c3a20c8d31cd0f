// Package realpeer runs real programs (openssl s_client, gnutls-cli,
// openssl s_server, curl ...) as a scenario's peers, from command
// templates the user writes:
//
//	openssl s_client -connect {addr} -servername {sni} -CAfile {ca} -verify_return_error -quiet <<< {canary}
//
// A Template names its values in braces; Parse checks that every name is
// one it knows (Placeholders) and Expand substitutes each value quoted
// for the shell, so a value never becomes shell syntax. Run runs the
// command with bash (for here-strings like <<<) in its own process group,
// kills the whole group when its context ends, and returns its exit
// status and output (bounded), which a scenario keeps as an artifact and
// records as evidence: a program's exit status is evidence, never the
// verdict.
//
// The programs reach the simulated network only through netsim's loopback
// bridge; realpeer itself opens no socket.
package realpeer
