// Package cloudtrust decides which TLS certificates the agent accepts from
// the cloud.
//
//   - After pairing the agent holds the cloud's CA certificate (handed over
//     in the pairing answer) and verifies the cloud against it alone.
//   - At pairing it holds only the CA's SHA-256 fingerprint from the
//     pairing ticket (out of band, from HQ): it accepts a chain only if the
//     chain carries a CA with that fingerprint and the server certificate
//     verifies against it for the dialled host name.
//   - With neither, it uses the system's roots (a cloud with a publicly
//     trusted certificate).
package cloudtrust

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/memberpass/memberpass/proto/pairing"
)

// Config returns the client TLS configuration for dialling addr.
func Config(addr string, caPEM []byte, pinSHA256 string) (*tls.Config, error) {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("cloud CA from pairing holds no PEM certificate")
		}
		if pinSHA256 != "" {
			if err := checkPin(caPEM, pinSHA256); err != nil {
				return nil, err
			}
		}
		cfg.RootCAs = pool
		return cfg, nil
	}
	if pinSHA256 == "" {
		return cfg, nil
	}
	pin := strings.ToLower(pinSHA256)
	// Chain verification is done here, against the pinned CA only.
	cfg.InsecureSkipVerify = true
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		certs := make([]*x509.Certificate, 0, len(raw))
		for _, r := range raw {
			c, err := x509.ParseCertificate(r)
			if err != nil {
				return fmt.Errorf("cloud certificate: %w", err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return errors.New("cloud sent no certificate")
		}
		roots := x509.NewCertPool()
		found := false
		for _, c := range certs[1:] {
			if pairing.Fingerprint(c.Raw) == pin {
				roots.AddCert(c)
				found = true
			}
		}
		if !found {
			return fmt.Errorf("cloud's certificate chain holds no CA with the fingerprint sha256:%s from the pairing ticket: not the cloud HQ named, refusing", pin)
		}
		if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			return fmt.Errorf("cloud certificate does not verify against the pinned CA: %w", err)
		}
		return nil
	}
	return cfg, nil
}

func checkPin(caPEM []byte, pin string) error {
	rest := caPEM
	for {
		var der []byte
		der, rest = nextCert(rest)
		if der == nil {
			return fmt.Errorf("cloud CA received at pairing does not match the fingerprint sha256:%s from the pairing ticket", pin)
		}
		if pairing.Fingerprint(der) == strings.ToLower(pin) {
			return nil
		}
	}
}

func nextCert(b []byte) (der, rest []byte) {
	for {
		blk, r := pem.Decode(b)
		if blk == nil {
			return nil, nil
		}
		if blk.Type == "CERTIFICATE" {
			return blk.Bytes, r
		}
		b = r
	}
}
