package mailsim

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
)

// Handler serves the inbox page (/), the JSON API (/api/messages,
// /api/messages/{id}, /api/faults) and each message's HTML part
// (/messages/{id}.html, sandboxed).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.inbox)
	mux.HandleFunc("GET /api/messages", func(w http.ResponseWriter, r *http.Request) {
		list := s.Messages(r.URL.Query().Get("to"))
		for i := range list {
			list[i].Raw = ""
		}
		writeJSON(w, http.StatusOK, map[string]any{"messages": list, "count": len(list)})
	})
	mux.HandleFunc("DELETE /api/messages", func(w http.ResponseWriter, r *http.Request) {
		s.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		m, ok := s.Message(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such message"})
			return
		}
		writeJSON(w, http.StatusOK, m)
	})
	mux.HandleFunc("GET /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		m, ok := s.Message(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		// The message's own HTML, unable to run scripts or reach this page.
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if m.HTML == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(m.Text))
			return
		}
		_, _ = w.Write([]byte(m.HTML))
	})
	mux.HandleFunc("GET /api/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	})
	mux.HandleFunc("POST /api/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {address, kind, count}"})
			return
		}
		if err := s.SetFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var inboxPage = template.Must(template.New("inbox").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Mail simulator · inbox ({{len .Messages}})</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:1rem;color:#202223}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}details pre{white-space:pre-wrap;background:#f6f6f7;padding:.5rem}
iframe{width:100%;height:28rem;border:1px solid #ddd}</style></head><body>
<h1>Inbox: {{len .Messages}} messages</h1>
<p>SMTP on <code>{{.Addr}}</code>. JSON: <a href="/api/messages">/api/messages</a>. Refusals in force: {{range .Faults}}<code>{{.Address}} {{.Kind}}{{if .Count}} ×{{.Count}}{{end}}</code> {{else}}none{{end}}
(POST /api/faults {"address":"a@b.c","kind":"tempfail|bounce","count":2})</p>
<table><thead><tr><th>#</th><th>Received</th><th>From → To</th><th>Subject</th></tr></thead><tbody>
{{range .Messages}}<tr><td>{{.ID}}</td><td>{{.Received.Format "15:04:05"}}</td><td>{{.From}} → {{range .To}}{{.}} {{end}}</td>
<td><details><summary>{{.Subject}}</summary><p>Message-ID: <code>{{.MessageID}}</code>{{with index .Headers "List-Unsubscribe"}} · List-Unsubscribe: <code>{{.}}</code>{{end}}</p>
<pre>{{.Text}}</pre>{{if .HTML}}<iframe sandbox title="HTML part of message {{.ID}}" src="/messages/{{.ID}}"></iframe>{{end}}</details></td></tr>
{{else}}<tr><td colspan="4">Nothing received yet.</td></tr>{{end}}</tbody></table></body></html>`))

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	list := s.Messages("")
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = inboxPage.Execute(w, map[string]any{"Messages": list, "Addr": s.Addr(), "Faults": s.Faults()})
}
