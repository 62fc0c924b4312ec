package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
)

// storesHealth prints every device of a brand with its last health report:
// STALE when it has not synced or reported for --stale-after, RESTORED when
// its data directory was restored from an old backup and it has not caught
// up with the cloud yet.
func storesHealth(ctx context.Context, c *client, args []string) error {
	fs := flags("stores health")
	brand := fs.String("brand", "", "brand id")
	staleAfter := fs.Duration("stale-after", 0, "a device silent this long is stale; 0: the cloud's --fleet-stale-after (10m)")
	if err := parse(fs, args, "brand"); err != nil {
		return err
	}
	if *staleAfter < 0 || *staleAfter > 30*24*time.Hour {
		return fmt.Errorf("--stale-after %s: want 0 to 720h", *staleAfter)
	}
	h, err := c.admin.GetFleetHealth(ctx, &pb.GetFleetHealthRequest{BrandId: *brand, StaleAfterSeconds: uint32(*staleAfter / time.Second)})
	if err != nil {
		return err
	}
	c.print(h, func() {
		now := time.Now()
		w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "STORE\tDEVICE\tNAME\tSTATUS\tLAST SEEN\tVERSION\tOUTBOX\tREPLICA AGE\tDISK FREE\tDEVICES")
		stale := 0
		for _, d := range h.GetDevices() {
			if d.GetStale() {
				stale++
			}
			r := d.GetReport()
			version, outbox, replica, disk, devices := "-", "-", "-", "-", "-"
			if r != nil {
				version, outbox, disk = r.GetVersion(), fmt.Sprint(r.GetOutboxPending()), bytesIEC(r.GetDiskFreeBytes())
				if r.GetReplicaSyncedAt() != nil {
					replica = ago(d.GetReportedAt().AsTime(), r.GetReplicaSyncedAt().AsTime())
				}
				devices = peripherals(r.GetDevices())
			}
			seen := "never"
			if d.GetLastSeenAt() != nil {
				seen = ago(now, d.GetLastSeenAt().AsTime()) + " ago"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.GetStoreId(), d.GetDeviceId(), d.GetDeviceName(), deviceStatus(d), seen, version, outbox, replica, disk, devices)
		}
		w.Flush()
		fmt.Fprintf(c.out, "%d devices, %d stale (silent for over %s)\n", len(h.GetDevices()), stale, time.Duration(h.GetStaleAfterSeconds())*time.Second)
	})
	return nil
}

// deviceStatus is one word (or a few) an operator scans for.
func deviceStatus(d *pb.DeviceHealth) string {
	var s []string
	switch {
	case d.GetRevoked():
		s = append(s, "revoked")
	case d.GetStale():
		s = append(s, "STALE")
	default:
		s = append(s, "ok")
	}
	if d.GetSeqBehind() {
		s = append(s, "RESTORED")
	}
	if r := d.GetReport(); r != nil && r.GetLastSyncError() != "" && !d.GetStale() {
		s = append(s, "sync-failing")
	}
	return strings.Join(s, ",")
}

func peripherals(ps []*pb.PeripheralHealth) string {
	if len(ps) == 0 {
		return "none"
	}
	var out []string
	for _, p := range ps {
		switch {
		case p.GetConnected():
			out = append(out, p.GetName()+" ok")
		case p.GetLastError() != "":
			out = append(out, p.GetName()+" DOWN: "+p.GetLastError())
		default:
			out = append(out, p.GetName()+" DOWN")
		}
	}
	return strings.Join(out, "; ")
}

func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
