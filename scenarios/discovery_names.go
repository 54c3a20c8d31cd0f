package scenarios

import "slices"

// discoveryPositions names each discoveryAttack as a scenario file's
// attacker position (file_discovery.go), indexed by the constant: where
// mallory stands and what she runs.
var discoveryPositions = []string{
	discAutodiscoverHTTP: "autodiscover-on-path",  // answers the autodiscover names, plain HTTP only
	discSRVInsider:       "srv-on-path",           // answers the SRV record with her workstation
	discSRVSubdomain:     "srv-subdomain-on-path", // answers the SRV record with a sub-domain of hers
	discRogueDHCP:        "rogue-dhcp",            // races dns01's DHCP, names her DNS server
	discLinkPoison:       "responder",             // answers every LLMNR and NBT-NS name
	discWPADNTLM:         "wpad-proxy-ntlm",       // Responder, a PAC file, a proxy demanding NTLM
	discWPADRewrite:      "wpad-proxy-rewrite",    // Responder, a PAC file, an open proxy answering HTTP itself
	discRogueRegistrar:   "rogue-registrar",       // the DHCP takeover, a plaintext registrar demanding NTLM
}

// position is a's name in a scenario file.
func (a discoveryAttack) position() string { return discoveryPositions[a] }

// discoveryAttackAt is the attack a file's position names; ok is false
// for a position of another family.
func discoveryAttackAt(position string) (a discoveryAttack, ok bool) {
	i := slices.Index(discoveryPositions, position)
	return discoveryAttack(i), i >= 0
}
