# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cutover ./cmd/cutover

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cutover /usr/local/bin/cutover
ENV CUTOVER_LISTEN=0.0.0.0:8080
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/cutover"]
CMD ["serve"]
