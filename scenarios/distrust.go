package scenarios

import (
	"fmt"
	"strings"

	"github.com/tlslab/tlslab/actors/pki"
	"github.com/tlslab/tlslab/lab"
	"github.com/tlslab/tlslab/lab/contoso"
)

// distrustRoots puts the CAs named by keys (issuer keys; mallory-root is
// mallory's CA, nil when she runs none) on the run's distrust list, and
// records it.
func distrustRoots(env *lab.Env, c *contoso.Deployment, mallory *pki.CA, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	w := certWorld{env: env, c: c, mallory: mallory}
	var names []string
	for _, k := range keys {
		ca, err := w.ca(k)
		if err != nil {
			return err
		}
		env.Distrusted.Add(ca.Certificate())
		names = append(names, ca.Name())
	}
	env.Evidence.Notef("", "the enterprise distrust list (pushed to every machine, as Windows' disallowed store) holds %s", strings.Join(names, ", "))
	return nil
}

// distrustedNames lists the CAs keys name: "Mallory Root CA".
func distrustedNames(keys []string) string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = issuerName(k)
	}
	return strings.Join(names, ", ")
}

// distrustChange describes the distrust list for the topology.
func distrustChange(keys []string) lab.TopologyChange {
	return lab.AddOption(fmt.Sprintf("enterprise distrust list on every machine (as Windows' disallowed store): %s", distrustedNames(keys)))
}
