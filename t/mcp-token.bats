#!/usr/bin/env bats
# MCP server tokens: only the user's own command line names a variable
# to read; a record (data, from anywhere) never does.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# A record from elsewhere: its own server, asking for the variable $1.
hostile() {
	ca-request -n -i h1 --mcp https://evil.example/sse,name=ex hi |
	    jq -c --arg v "$1" '.mcp_token_env = {"ex": $v}'
}

@test "a record that names a variable gets an error record and nothing is sent" {
	export AWS_SECRET_ACCESS_KEY=aws-tok-x9
	for var in ANTHROPIC_API_KEY AWS_SECRET_ACCESS_KEY; do
		emu_reset
		hostile "$var" >r.ndjson
		run --separate-stderr ca-exec <r.ndjson
		[ "$status" -eq 1 ]
		[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "request error " ]
		[ "$(jq -r 'select(.type == "error") | .custom_id' <<<"$output")" = h1 ]
		[ "$(jq -r 'select(.type == "error") | .error.type' <<<"$output")" = mcp_token_refused ]
		[[ "$(jq -r 'select(.type == "error") | .error.message' <<<"$output")" == *"\$$var"*"--mcp-token-env ex=$var"* ]]
		[[ "$stderr" == *"<stdin>:1:"*"a record cannot choose a variable"* ]]
		[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
		[[ "$output$stderr" != *tok-x9* && "$output$stderr" != *"$CA_TEST_KEY"* ]]
	done
}

@test "the command line allows a variable, for one server; a record may not ask for another" {
	export DOCS_TOKEN=tok-SECRET-4711 OTHER=other-SECRET
	ca-request -n -i ok --mcp https://mcp.example.com/sse,name=docs \
	    --mcp-token-env DOCS_TOKEN hi >ok.ndjson
	jq -c '.custom_id = "bad" | .mcp_token_env.docs = "OTHER"' ok.ndjson >bad.ndjson
	run --separate-stderr ca-exec --mcp-token-env docs=DOCS_TOKEN < <(cat ok.ndjson bad.ndjson)
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.custom_id == "ok" and .type != "request") | .type' <<<"$output")" = response ]
	[ "$(jq -r 'select(.custom_id == "bad" and .type == "error") | .error.type' <<<"$output")" = mcp_token_refused ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	[ "$(emu_log /v1/messages | jq -r '.body.mcp_servers[0].authorization_token')" = '***' ]
	refute grep -q SECRET "$EMU_DIR/log.ndjson"
	# Without the option, the same good record sends nothing either.
	emu_reset
	run --separate-stderr ca-exec <ok.ndjson
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "error") | .error.type' <<<"$output")" = mcp_token_refused ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
	# The option alone gives the server its token; no record need ask.
	emu_reset
	jq -c 'del(.mcp_token_env)' ok.ndjson | ca-exec --mcp-token-env docs=DOCS_TOKEN >/dev/null
	[ "$(emu_log /v1/messages | jq -r '.body.mcp_servers[0].authorization_token')" = '***' ]
}

@test "no ANTHROPIC_ variable can be named, not even on the command line" {
	for v in ANTHROPIC_API_KEY ANTHROPIC_AUTH_TOKEN ANTHROPIC_ANYTHING; do
		run --separate-stderr ca-exec --mcp-token-env "ex=$v" </dev/null
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"never sent to an MCP server"* ]]
		run --separate-stderr ca-request --mcp https://a.example/x --mcp-token-env "$v" hi
		[ "$status" -eq 2 ]
		[[ "$stderr" == *"never sent to an MCP server"* ]]
	done
	run --separate-stderr ca-exec --mcp-token-env DOCS_TOKEN </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"give SERVER=VARIABLE"* ]]
	run --separate-stderr ca-exec --mcp-token-env docs=A --mcp-token-env docs=B </dev/null
	[ "$status" -eq 2 ]
}

@test "ca-request -C never copies mcp_token_env from a transcript" {
	hostile ANTHROPIC_API_KEY >t.ndjson
	printf '%s\n' '{"type":"response","custom_id":"h1","part":1,"message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}}' >>t.ndjson
	ca-request -C again <t.ndjson >c.ndjson
	[ "$(jq -r '.params.mcp_servers[0].name' c.ndjson)" = ex ]
	[ "$(jq -c '.mcp_token_env' c.ndjson)" = null ]
	# Its own command line still names one, for its own --mcp.
	ca-request -C --mcp https://mcp.example.com/sse,name=docs \
	    --mcp-token-env DOCS_TOKEN again <t.ndjson >c.ndjson
	json_eq "$(jq -c '.mcp_token_env' c.ndjson)" '{"docs":"DOCS_TOKEN"}'
}

@test "ca-batch refuses a record that asks for a token rather than drop it" {
	hostile DOCS_TOKEN >in
	run --separate-stderr ca-batch --poll 0.1 <in
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"<stdin>:1: request h1: mcp_token_env"* ]]
	[ "$(emu_log | wc -l)" -eq 0 ]
	[ "$output" = "$(cat in)" ]
}
