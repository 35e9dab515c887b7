package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/parrain/parrain/app/config"
	"github.com/parrain/parrain/app/postgres"
	"github.com/parrain/parrain/app/staff"
)

// staffCommand runs `parrain staff add`: the first owner is created here,
// from the command line, never over HTTP.
func staffCommand(ctx context.Context, cfg *config.Config, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: parrain staff add --email E --role owner|support|viewer [--name N] [--shops d1,d2]")
	}
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	email := fs.String("email", "", "login email")
	role := fs.String("role", "", "owner, support or viewer")
	name := fs.String("name", "", "display name")
	shops := fs.String("shops", "", "comma-separated shop domains a support or viewer member may see")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, err := staff.ParseRole(*role)
	if err != nil {
		return err
	}
	password := os.Getenv("PARRAIN_STAFF_PASSWORD")
	if password == "" {
		fmt.Fprint(os.Stderr, "password: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	var domains []string
	for _, d := range strings.Split(*shops, ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.Keyring)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckMigrations(ctx); err != nil {
		return err
	}
	m, err := (&staff.Service{Store: db.Console()}).Add(ctx, *email, *name, r, password, domains)
	if err != nil {
		return err
	}
	fmt.Printf("staff member %d: %s (%s)\n", m.ID, m.Email, m.Role)
	return nil
}
