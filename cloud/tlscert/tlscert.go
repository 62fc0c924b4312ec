// Package tlscert gives the cloud its TLS identity: a certificate and key
// from files, or, for a demo or a first install, a private certificate
// authority and a server certificate it signs, made once and kept in the
// data directory. Agents pin that authority by its fingerprint (carried in
// the pairing ticket) and receive it at pairing.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/memberpass/memberpass/proto/pairing"
)

// Bundle is the cloud's TLS identity.
type Bundle struct {
	// Cert is the server certificate chain (leaf first, then the CA when
	// known, so agents that pin the CA find it in the handshake).
	Cert tls.Certificate
	// CAPEM is the CA certificate handed to agents at pairing; nil when
	// the certificate is publicly trusted and no CA was given.
	CAPEM []byte
	// CAFingerprint is the hex SHA-256 of the CA certificate (DER).
	CAFingerprint string
}

// ServerConfig returns a TLS configuration serving the bundle.
func (b Bundle) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{b.Cert}, MinVersion: tls.VersionTLS12}
}

// Load reads a certificate chain and key (PEM files), and optionally the
// CA certificate to hand to agents.
func Load(certFile, keyFile, caFile string) (Bundle, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return Bundle{}, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	b := Bundle{Cert: cert}
	if caFile == "" {
		return b, nil
	}
	raw, err := os.ReadFile(caFile)
	if err != nil {
		return Bundle{}, fmt.Errorf("read TLS CA %s: %w", caFile, err)
	}
	ca, err := parseCert(raw)
	if err != nil {
		return Bundle{}, fmt.Errorf("TLS CA %s: %w", caFile, err)
	}
	b.CAPEM, b.CAFingerprint = raw, pairing.Fingerprint(ca.Raw)
	if !chainHas(cert, ca.Raw) {
		b.Cert.Certificate = append(b.Cert.Certificate, ca.Raw)
	}
	return b, nil
}

func chainHas(c tls.Certificate, der []byte) bool {
	for _, d := range c.Certificate {
		if string(d) == string(der) {
			return true
		}
	}
	return false
}

func parseCert(pemBytes []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// File names inside the self-signed directory.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca.key"
	serverCertFile = "server.pem"
	serverKeyFile  = "server.key"
)

// SelfSigned returns the private CA and server certificate kept in dir,
// making them on first use. hosts are the names and addresses agents dial
// (the server certificate's SANs); if they change, a new server
// certificate is made under the same CA, so paired agents keep trusting it.
func SelfSigned(dir string, hosts []string, now time.Time) (Bundle, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Bundle{}, fmt.Errorf("TLS directory: %w", err)
	}
	caCert, caKey, err := loadOrMakeCA(dir, now)
	if err != nil {
		return Bundle{}, err
	}
	certPath, keyPath := filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil || !covers(cert, hosts, caCert, now) {
		if err := makeServerCert(certPath, keyPath, hosts, caCert, caKey, now); err != nil {
			return Bundle{}, err
		}
		if cert, err = tls.LoadX509KeyPair(certPath, keyPath); err != nil {
			return Bundle{}, fmt.Errorf("load new server certificate: %w", err)
		}
	}
	cert.Certificate = append(cert.Certificate[:1], caCert.Raw)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})
	return Bundle{Cert: cert, CAPEM: caPEM, CAFingerprint: pairing.Fingerprint(caCert.Raw)}, nil
}

func loadOrMakeCA(dir string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	if pair, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		ca, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", certPath, err)
		}
		key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
		if !ok {
			return nil, nil, fmt.Errorf("%s: want an ECDSA key", keyPath)
		}
		return ca, key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("load TLS CA from %s: %w", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "memberpass cloud CA", Organization: []string{"memberpass"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make TLS CA: %w", err)
	}
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

// covers reports whether cert is signed by ca, valid for a while yet, and
// names every host.
func covers(cert tls.Certificate, hosts []string, ca *x509.Certificate, now time.Time) bool {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || leaf.CheckSignatureFrom(ca) != nil || now.Add(30*24*time.Hour).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func makeServerCert(certPath, keyPath string, hosts []string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "memberpass cloud"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("make server certificate: %w", err)
	}
	return writePair(certPath, keyPath, der, key)
}

func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", keyPath, err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", certPath, err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return n
}
