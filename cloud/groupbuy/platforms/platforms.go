// Package platforms builds the group-buy adapters of every brand from the
// cloud's platform configuration: a JSON file holding each brand's
// credentials per platform. Secrets stay in this file (mode 0600, beside
// the cloud's other secrets), never in the database HQ's analysts query.
//
//	{"brands": {"cha": {
//	    "meituan": {"app_key": "...", "app_secret": "...", "session": "...", "account": "hq", "account_name": "总部"},
//	    "douyin":  {"client_key": "...", "client_secret": "...", "account_id": "7000001"}}}}
//
// base_url, in either platform's block, points at another address (a test
// platform).
package platforms

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/groupbuy"
	"github.com/memberpass/memberpass/cloud/groupbuy/douyin"
	"github.com/memberpass/memberpass/cloud/groupbuy/meituan"
)

// Config is the file's shape.
type Config struct {
	Brands map[string]struct {
		Meituan *meituan.Config `json:"meituan"`
		Douyin  *douyin.Config  `json:"douyin"`
	} `json:"brands"`
	// TimeoutSeconds bounds each platform request (default 5).
	TimeoutSeconds int `json:"timeout_seconds"`
}

// Load reads a configuration file; an empty path gives no platforms.
func Load(path string) (groupbuy.Registry, error) {
	if path == "" {
		return groupbuy.Registry{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("group-buy platforms: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads a configuration.
func Parse(r io.Reader) (groupbuy.Registry, error) {
	var c Config
	d := json.NewDecoder(io.LimitReader(r, 1<<20))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("group-buy platforms: %w", err)
	}
	timeout := 5 * time.Second
	if c.TimeoutSeconds > 0 {
		timeout = time.Duration(c.TimeoutSeconds) * time.Second
	}
	hc := &http.Client{Timeout: timeout}
	reg := groupbuy.Registry{}
	for brand, b := range c.Brands {
		reg[brand] = map[string]groupbuy.Adapter{}
		if b.Meituan != nil {
			a, err := meituan.New(*b.Meituan, hc)
			if err != nil {
				return nil, fmt.Errorf("group-buy platforms: brand %s: %w", brand, err)
			}
			reg[brand][cloud.PlatformMeituan] = a
		}
		if b.Douyin != nil {
			a, err := douyin.New(*b.Douyin, hc)
			if err != nil {
				return nil, fmt.Errorf("group-buy platforms: brand %s: %w", brand, err)
			}
			reg[brand][cloud.PlatformDouyin] = a
		}
	}
	return reg, nil
}
