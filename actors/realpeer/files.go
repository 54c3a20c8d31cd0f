package realpeer

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// writePEM writes blocks to dir/name, readable by its owner only, and
// returns the file's path.
func writePEM(dir, name string, blocks ...*pem.Block) (string, error) {
	var data []byte
	for _, b := range blocks {
		data = append(data, pem.EncodeToMemory(b)...)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("realpeer: writing %s: %w", name, err)
	}
	return path, nil
}

// certBlocks are certs as PEM CERTIFICATE blocks, in order.
func certBlocks(certs []*x509.Certificate) []*pem.Block {
	out := make([]*pem.Block, len(certs))
	for i, c := range certs {
		out[i] = &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}
	}
	return out
}

// crlBlocks are DER CRLs as PEM X509 CRL blocks.
func crlBlocks(crls [][]byte) []*pem.Block {
	out := make([]*pem.Block, len(crls))
	for i, c := range crls {
		out[i] = &pem.Block{Type: "X509 CRL", Bytes: c}
	}
	return out
}

// keyBlock is key as a PKCS #8 PEM block.
func keyBlock(key crypto.PrivateKey) (*pem.Block, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("realpeer: encoding the server's key: %w", err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}, nil
}
