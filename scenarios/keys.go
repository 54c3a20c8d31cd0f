package scenarios

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// rsaKeys holds one 2048-bit RSA key per holder for the whole process.
// Generating one costs tens of milliseconds, a large share of a run; the
// scenarios that need RSA (static-RSA key exchange, RSA certificates of
// scenario files) certify their holder's key anew in every run, with a
// fresh certificate, and nothing the lab judges depends on the key's value.
// Each holder has its own key, so no two certificates of one run share one.
var rsaKeys sync.Map // holder name -> func() (*rsa.PrivateKey, error)

// rsaKeyOf returns holder's RSA key, generated on first use.
func rsaKeyOf(holder string) (*rsa.PrivateKey, error) {
	f, _ := rsaKeys.LoadOrStore(holder, sync.OnceValues(func() (*rsa.PrivateKey, error) {
		return rsa.GenerateKey(rand.Reader, 2048)
	}))
	return f.(func() (*rsa.PrivateKey, error))()
}
