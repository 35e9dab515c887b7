package main

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"
)

// fault is one failure injected when the acknowledged share of events
// passes at.
type fault struct {
	at   float64
	name string
	do   func() error
}

type faults struct {
	w      *world
	d      *driver
	list   []fault
	done   []string
	finish sync.WaitGroup
}

// scheduleFaults places -kills kill -9 of a web process and of a worker,
// one Redis restart and one Postgres crash at random points of the run
// (between 5% and 90% of the events acknowledged).
func (w *world) scheduleFaults(rnd *rand.Rand, d *driver) *faults {
	f := &faults{w: w, d: d}
	at := func() float64 { return 0.05 + 0.85*rnd.Float64() }
	pause := func() time.Duration { return time.Duration(300+rnd.Intn(1700)) * time.Millisecond }
	for range w.o.Kills {
		p := w.serves[rnd.Intn(len(w.serves))]
		f.list = append(f.list, fault{at(), "kill -9 " + p.name, func() error { p.kill(); time.Sleep(pause()); return p.start() }})
		q := w.workers[rnd.Intn(len(w.workers))]
		f.list = append(f.list, fault{at(), "kill -9 " + q.name, func() error { q.kill(); time.Sleep(pause()); return q.start() }})
	}
	f.list = append(f.list, fault{at(), "Redis restart (kill -9, no persistence: queued jobs lost)", func() error {
		w.redis.kill()
		time.Sleep(pause())
		return w.redis.start()
	}})
	f.list = append(f.list, fault{at(), "Postgres crash (immediate shutdown) and restart with recovery", func() error {
		w.pg.crash()
		time.Sleep(pause())
		return w.pg.start()
	}})
	sort.Slice(f.list, func(i, j int) bool { return f.list[i].at < f.list[j].at })
	f.finish.Add(1)
	return f
}

func (f *faults) run(ctx context.Context) {
	defer f.finish.Done()
	for _, x := range f.list {
		for f.d.progress() < x.at {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		t0 := time.Now()
		err := x.do()
		line := fmt.Sprintf("%-62s at %5.1f%% of events acknowledged (%v)", x.name, 100*x.at, time.Since(t0).Round(time.Millisecond))
		if err != nil {
			line += " ERROR " + err.Error()
		}
		f.done = append(f.done, line)
	}
}

// wait returns once every fault ran (the driver may finish first when a
// fault was placed late).
func (f *faults) wait() { f.finish.Wait() }
