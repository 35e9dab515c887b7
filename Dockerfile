# syntax=docker/dockerfile:1
# Build: a static binary. Run: distroless, non-root, no shell.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/parrain ./cmd/parrain

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parrain /parrain
USER nonroot:nonroot
ENV LISTEN_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/parrain"]
CMD ["all"]
