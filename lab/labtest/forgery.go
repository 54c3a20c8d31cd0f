package labtest

import "github.com/tlslab/tlslab/lab"

// A Forgery is a certificate a man in the middle presents in place of a
// server's, with the defense a client configured correctly refuses it
// by: one of the certificate cases of tlslab's catalog.
type Forgery struct {
	// Name names the case, for subtests: "other-name", "self-signed" ...
	Name string
	// StoppedBy is the defense (lab.DefenseHostnameCheck ...) a correct
	// client's refusal is classified as.
	StoppedBy string
	// Cert makes the forgery for the server name server; trusted is the
	// CA the victim trusts, in the World the forgery is made for.
	Cert func(trusted *CA, server string) Cert
}

// Forgeries returns the certificate cases a client's tls.Config must
// refuse by itself, in this order:
//
//   - other-name: a valid certificate for another name from the CA the
//     client trusts (hostname-check);
//   - self-signed: signed by its own key (chain-validation);
//   - own-ca: issued for the server's name by a CA of the attacker's
//     (chain-validation);
//   - expired and not-yet-valid: for the server's name from the trusted
//     CA (validity-check);
//   - wrong-eku: for the server's name from the trusted CA, for code
//     signing only (chain-validation).
//
// A revoked certificate (CA.Revoked) is not among them: refusing it takes
// a revocation check (Host.RevocationChecker), which crypto/tls does not
// do by itself.
func Forgeries() []Forgery {
	return []Forgery{
		{"other-name", lab.DefenseHostnameCheck, func(ca *CA, _ string) Cert { return ca.OtherName("mallory.example") }},
		{"self-signed", lab.DefenseChainValidation, func(ca *CA, server string) Cert { return ca.SelfSigned(server) }},
		{"own-ca", lab.DefenseChainValidation, func(ca *CA, server string) Cert {
			return ca.w.CA("Mallory Root CA").Forge(server)
		}},
		{"expired", lab.DefenseValidityCheck, func(ca *CA, server string) Cert { return ca.Expired(server) }},
		{"not-yet-valid", lab.DefenseValidityCheck, func(ca *CA, server string) Cert { return ca.NotYetValid(server) }},
		{"wrong-eku", lab.DefenseChainValidation, func(ca *CA, server string) Cert { return ca.WrongEKU(server) }},
	}
}
