#!/usr/bin/env bats
# Everything a request can ask for beyond code execution: skills, web
# tools, MCP, structured output, caching, thinking, effort, -P, model
# end of life; ca-exec --count and --max-cost; what ca-render shows of
# them.  Each flag goes through the whole pipeline where the emulator
# plays its part.

load test_helper
bats_require_minimum_version 1.5.0

setup_file() { emu_start; }
teardown_file() { emu_stop; }

# Today for the end-of-life table: fixed, so no test changes with the date.
export CA_TODAY=2026-11-01

req() { ca-request -n "$@"; }
params() { tail -1 | jq -c "${1:-.params}"; }
shapes() { python3 "$CA_ROOT/t/sdk_shapes.py"; }

person_schema() {
	cat >person.json <<-'EOF'
	{"$schema":"https://json-schema.org/draft/2020-12/schema",
	 "type":"object",
	 "properties":{"name":{"type":"string"},"email":{"type":"string"},
	   "address":{"type":"object","properties":{"city":{"type":"string"}}}},
	 "required":["name","email"]}
	EOF
}

# ---- Skills ----

@test "--skill puts container.skills in the request, with no beta under auto" {
	run --separate-stderr req --skill xlsx --skill anthropic:pptx@20251013 \
		--skill custom:skill_01AbCd@skver_7 --skill skill_01Zz hi
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.container' <<<"$output")" \
		'{"skills":[{"type":"anthropic","skill_id":"xlsx","version":"latest"},{"type":"anthropic","skill_id":"pptx","version":"20251013"},{"type":"custom","skill_id":"skill_01AbCd","version":"skver_7"},{"type":"custom","skill_id":"skill_01Zz","version":"latest"}]}'
	[ "$(params '.betas' <<<"$output")" = '[]' ]
	[ "$(params '.params.tools[0].type' <<<"$output")" = '"code_execution_20260521"' ]
}

@test "--skill with -c keeps the container id beside the skills" {
	run req --skill pdf -c container_x hi
	json_eq "$(params '.params.container' <<<"$output")" \
		'{"id":"container_x","skills":[{"type":"anthropic","skill_id":"pdf","version":"latest"}]}'
}

@test "--betas legacy adds the skills and code execution betas for old gateways" {
	run req --betas legacy --skill docx hi
	[ "$(params '.betas' <<<"$output")" = '["code-execution-2025-08-25","skills-2025-10-02"]' ]
}

@test "--continue sends the skills again with the container id" {
	req -i r1 --skill xlsx 'first' >t.ndjson
	cat >>t.ndjson <<-'EOF'
	{"type":"response","custom_id":"r1","part":1,"request_id":"req_1","attempts":1,"message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","container":{"id":"container_abc","expires_at":"2099-01-01T00:00:00Z","skills":[{"type":"anthropic","skill_id":"xlsx","version":"20251013"}]},"usage":{"input_tokens":1,"output_tokens":1}}}
	EOF
	run --separate-stderr ca-request -C 'second' <t.ndjson
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.container' <<<"$output")" \
		'{"id":"container_abc","skills":[{"type":"anthropic","skill_id":"xlsx","version":"latest"}]}'
}

@test "skills: the emulator receives container.skills and skill-made files come back through ca-fetch" {
	ca-request -n --skill xlsx 'make a budget
```skill xlsx budget.xlsx```' >r.ndjson
	run --separate-stderr bash -c 'ca-exec <r.ndjson | ca-fetch -d out'
	[ "$status" -eq 0 ]
	json_eq "$(emu_log /v1/messages | tail -1 | jq -c .body.container)" \
		'{"skills":[{"type":"anthropic","skill_id":"xlsx","version":"latest"}]}'
	[ "$(emu_log /v1/messages | tail -1 | jq -r '.headers["anthropic-beta"] // "none"')" = none ]
	[ "$(jq -r 'select(.type == "fetched") | .path' <<<"$output")" = out/budget.xlsx ]
	# An Office Open XML file is a zip.
	[ "$(head -c 2 out/budget.xlsx)" = PK ]
	# The response names the resolved skill version; --continue sends the list again.
	ca-request -C 'and again' <<<"$output" >c.ndjson
	json_eq "$(tail -1 c.ndjson | jq -c '.params.container.skills')" \
		'[{"type":"anthropic","skill_id":"xlsx","version":"latest"}]'
	[[ "$(tail -1 c.ndjson | jq -r '.params.container.id')" == container_* ]]
	run --separate-stderr ca-exec <c.ndjson
	[ "$status" -eq 0 ]
}

@test "skills: pptx, docx and pdf files come back too, each as its kind" {
	ca-request -n --skill pptx --skill docx --skill pdf 'three documents
```skill pptx deck.pptx```
```skill docx memo.docx```
```skill pdf report.pdf```' | ca-exec | ca-fetch -d out >f.ndjson
	[ "$(jq -r 'select(.type == "fetched") | .path' f.ndjson | sort | tr '\n' ' ')" = \
		"out/deck.pptx out/memo.docx out/report.pdf " ]
	[ "$(head -c 2 out/deck.pptx)" = PK ]
	[ "$(head -c 2 out/memo.docx)" = PK ]
	[ "$(head -c 4 out/report.pdf)" = %PDF ]
}

# ---- Web search and web fetch ----

@test "-W search and -W fetch add the newest web tools with their options" {
	run --separate-stderr req -W search -W fetch --web-domains python.org,docs.python.org/3 \
		--web-max-uses 4 hi
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.tools' <<<"$output")" \
		'[{"type":"code_execution_20260521","name":"code_execution"},{"type":"web_search_20260318","name":"web_search","max_uses":4,"allowed_domains":["python.org","docs.python.org/3"]},{"type":"web_fetch_20260318","name":"web_fetch","max_uses":4,"allowed_domains":["python.org","docs.python.org/3"]}]'
	run req -W fetch --web-block example.com hi
	json_eq "$(params '.params.tools[1]' <<<"$output")" \
		'{"type":"web_fetch_20260318","name":"web_fetch","blocked_domains":["example.com"]}'
}

@test "-W on a model without programmatic tool calling sets allowed_callers direct" {
	run req -m claude-haiku-4-5 -W search hi
	json_eq "$(params '.params.tools[1]' <<<"$output")" \
		'{"type":"web_search_20260318","name":"web_search","allowed_callers":["direct"]}'
}

@test "-W beside a code execution tool older than 20260120 uses the basic versions" {
	run req -T code_execution_20250825 -W search -W fetch hi
	[ "$(params '[.params.tools[].type]' <<<"$output")" = '["code_execution_20250825","web_search_20250305","web_fetch_20250910"]' ]
	run req --betas legacy -T code_execution_20250825 -W fetch hi
	[ "$(params '.betas' <<<"$output")" = '["code-execution-2025-08-25","web-fetch-2025-09-10"]' ]
}

@test "web tools through the emulator: canned results, domain rules, shown by ca-render" {
	ca-request -n -W search -W fetch --web-domains python.org --web-max-uses 2 'latest CPython?
```web_search cpython release
https://www.python.org/downloads/ | Python Releases
https://example.com/py | Elsewhere
```
```web_fetch https://www.python.org/downloads/
Python 3.99 is out.
```' >r.ndjson
	run --separate-stderr ca-exec <r.ndjson
	[ "$status" -eq 0 ]
	json_eq "$(emu_log /v1/messages | tail -1 | jq -c '[.body.tools[] | {type, allowed_domains, max_uses}]')" \
		'[{"type":"code_execution_20260521","allowed_domains":null,"max_uses":null},{"type":"web_search_20260318","allowed_domains":["python.org"],"max_uses":2},{"type":"web_fetch_20260318","allowed_domains":["python.org"],"max_uses":2}]'
	resp=$(jq -c 'select(.type == "response") | .message' <<<"$output")
	# Only the allowed domain's result came back.
	[ "$(jq -r '.content[] | select(.type == "web_search_tool_result") | [.content[].url] | join(" ")' <<<"$resp")" = https://www.python.org/downloads/ ]
	[ "$(jq -r '.content[] | select(.type == "web_fetch_tool_result") | .content.content.source.data' <<<"$resp")" = "Python 3.99 is out." ]
	rendered=$(ca-render --color=never <<<"$output")
	[[ "$rendered" == *"web search: cpython release"* ]]
	[[ "$rendered" == *"Python Releases"* ]]
	[[ "$rendered" == *"web fetch: https://www.python.org/downloads/"* ]]
}

# ---- MCP ----

@test "--mcp adds mcp_servers, one mcp_toolset each, and the MCP beta" {
	run --separate-stderr req --mcp https://mcp.example.com/sse \
		--mcp 'https://tools.example.org/mcp,name=tools' hi
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.mcp_servers' <<<"$output")" \
		'[{"type":"url","url":"https://mcp.example.com/sse","name":"mcp.example.com"},{"type":"url","url":"https://tools.example.org/mcp","name":"tools"}]'
	json_eq "$(params '.params.tools[1:]' <<<"$output")" \
		'[{"type":"mcp_toolset","mcp_server_name":"mcp.example.com"},{"type":"mcp_toolset","mcp_server_name":"tools"}]'
	[ "$(params '.betas' <<<"$output")" = '["mcp-client-2025-11-20"]' ]
	run req --betas none --mcp https://mcp.example.com/sse hi
	[ "$(params '.betas' <<<"$output")" = '[]' ]
}

@test "an MCP token: named in the record, sent only in the body, shown nowhere" {
	export DOCS_TOKEN=tok-SECRET-4711
	req --mcp https://mcp.example.com/sse,name=docs --mcp-token-env DOCS_TOKEN hi >r.ndjson
	json_eq "$(jq -c .mcp_token_env r.ndjson)" '{"docs":"DOCS_TOKEN"}'
	refute grep -q SECRET r.ndjson
	run --separate-stderr ca-exec -v --mcp-token-env docs=DOCS_TOKEN <r.ndjson
	[[ "$output$stderr" != *SECRET* ]]
	[ "$(emu_log /v1/messages | wc -l)" -eq 1 ]
	# It reached the emulator, whose log shows that it came, redacted.
	[ "$(emu_log /v1/messages | tail -1 | jq -r '.body.mcp_servers[0].authorization_token')" = '***' ]
	refute grep -q SECRET "$EMU_DIR/log.ndjson"
	[ "$(jq -r '.headers["anthropic-beta"]' < <(emu_log /v1/messages | tail -1))" = mcp-client-2025-11-20 ]
	# --continue keeps the server, never a variable from the transcript.
	ca-request -C 'again' <<<"$(printf '%s\n' "$output")" >c.ndjson
	[ "$(tail -1 c.ndjson | jq -r '.params.mcp_servers[0].name')" = docs ]
	[ "$(tail -1 c.ndjson | jq -c .mcp_token_env)" = null ]
	refute grep -q SECRET c.ndjson
}

@test "a server error that quotes the MCP token shows [redacted] instead" {
	export DOCS_TOKEN=tok-SECRET-4711
	emu_fault '[{"path":"/v1/messages","status":400,"body":{"type":"error","error":{"type":"invalid_request_error","message":"mcp_servers.0: token tok-SECRET-4711 was refused"}}}]'
	req --mcp https://mcp.example.com/sse,name=docs --mcp-token-env DOCS_TOKEN hi >r.ndjson
	run --separate-stderr ca-exec -v --mcp-token-env docs=DOCS_TOKEN <r.ndjson
	[ "$status" -eq 1 ]
	[ "$(tail -1 <<<"$output" | jq -r .error.message)" = "mcp_servers.0: token [redacted] was refused" ]
	[[ "$stderr" == *"token [redacted] was refused"* ]]
	[[ "$output$stderr" != *SECRET* ]]
}

@test "an MCP token variable that is not set fails that request, naming the variable" {
	unset DOCS_TOKEN
	req --mcp https://mcp.example.com/sse,name=docs --mcp-token-env DOCS_TOKEN hi >r.ndjson
	run --separate-stderr ca-exec --mcp-token-env docs=DOCS_TOKEN <r.ndjson
	[ "$status" -eq 1 ]
	[ "$(tail -1 <<<"$output" | jq -r .error.type)" = mcp_token_missing ]
	[[ "$stderr" == *'$DOCS_TOKEN'* ]]
	[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
}

@test "ca-render shows mcp_tool_use and mcp_tool_result blocks" {
	cat >m.ndjson <<-'EOF'
	{"type":"response","custom_id":"m1","part":1,"request_id":"req_m","attempts":1,"message":{"id":"msg_m","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"mcp_tool_use","id":"mcptoolu_1","name":"echo","server_name":"docs","input":{"param1":"value1"}},{"type":"mcp_tool_result","tool_use_id":"mcptoolu_1","is_error":false,"content":[{"type":"text","text":"Hello from MCP"}]},{"type":"mcp_tool_result","tool_use_id":"mcptoolu_2","is_error":true,"content":"no such page"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}}
	EOF
	run --separate-stderr ca-render --color=never <m.ndjson
	[ "$status" -eq 0 ]
	[[ "$output" == *"mcp tool echo on docs"* ]]
	[[ "$output" == *'"param1": "value1"'* || "$output" == *'"param1":"value1"'* ]]
	[[ "$output" == *"Hello from MCP"* ]]
	[[ "$output" == *"mcp error"*"no such page"* ]]
	[[ "$output" != *"unknown block"* ]]
}

@test "MCP through the emulator: the tool call and its result, shown by ca-render" {
	export DOCS_TOKEN=tok-SECRET-4711
	ca-request -n --mcp https://mcp.example.com/sse,name=docs --mcp-token-env DOCS_TOKEN 'use echo
```mcp docs echo
{"text": "hi"}
---
Hello from MCP
```' >r.ndjson
	run --separate-stderr bash -c 'ca-exec --mcp-token-env docs=DOCS_TOKEN <r.ndjson | tee out.ndjson | ca-render --color=never'
	[ "$status" -eq 0 ]
	[[ "$output" == *"mcp tool echo on docs"* ]]
	[[ "$output" == *"Hello from MCP"* ]]
	[[ "$output" != *"unknown block"* ]]
	refute grep -q SECRET out.ndjson
	# Streamed, the call shows live with its whole input, once.
	run --separate-stderr bash -c 'ca-exec --stream --mcp-token-env docs=DOCS_TOKEN <r.ndjson | ca-render --color=never'
	[ "$status" -eq 0 ]
	[ "$(grep -c 'mcp tool echo on docs' <<<"$output")" -eq 1 ]
	[[ "$output" == *'"text": "hi"'* || "$output" == *'"text":"hi"'* ]]
	# The next turn sends the servers again, the token too (from the
	# variable ca-exec's command line allows).
	ca-request -C 'again' <out.ndjson | ca-exec --mcp-token-env docs=DOCS_TOKEN >/dev/null
	[ "$(emu_log /v1/messages | tail -1 | jq -r '.body.mcp_servers[0].authorization_token')" = '***' ]
	[ "$(emu_log /v1/messages | tail -1 | jq -r '[.body.messages[1].content[].type] | index("mcp_tool_use") != null')" = true ]
}

# ---- Structured output ----

@test "--schema sets output_config.format, made strict as the API wants" {
	person_schema
	run --separate-stderr req --schema person.json hi
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.output_config' <<<"$output")" \
		'{"format":{"type":"json_schema","schema":{"type":"object","properties":{"name":{"type":"string"},"email":{"type":"string"},"address":{"type":"object","properties":{"city":{"type":"string"}},"additionalProperties":false}},"required":["name","email"],"additionalProperties":false}}}'
	[ "$(params '.betas' <<<"$output")" = '[]' ]
}

@test "ca-render -r writes a structured answer's JSON alone, for jq" {
	person_schema
	req -i r1 --schema person.json 'Jane Doe <jane@example.com>' >s.ndjson
	cat >>s.ndjson <<-'EOF'
	{"type":"response","custom_id":"r1","part":1,"request_id":"req_s","attempts":1,"message":{"id":"msg_s","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"Here it is:"},{"type":"server_tool_use","id":"srvtoolu_1","name":"code_execution","input":{"code":"print(1)"}},{"type":"text","text":"{\"name\":\"Jane Doe\",\"email\":\"jane@example.com\"}"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}}
	EOF
	run --separate-stderr ca-render -r <s.ndjson
	[ "$status" -eq 0 ]
	[ "$output" = '{"name":"Jane Doe","email":"jane@example.com"}' ]
	[ "$(ca-render -r <s.ndjson | jq -r .email)" = jane@example.com ]
	# Without a schema, -r keeps every text block, as before.
	sed 1d s.ndjson | ca-render -r >plain
	[ "$(head -1 plain)" = "Here it is:" ]
}

@test "structured output through the emulator: ca-render -r | jq reads the answer" {
	person_schema
	run --separate-stderr bash -c "ca-request -n --schema person.json 'Jane Doe <jane@example.com>' | ca-exec | ca-render -r | jq -c 'keys'"
	[ "$status" -eq 0 ]
	[ "$output" = '["address","email","name"]' ]
	[ "$(emu_log /v1/messages | tail -1 | jq -r .body.output_config.format.type)" = json_schema ]
}

# ---- Caching ----

@test "--cache sets top-level cache_control, 5 minutes or an hour" {
	run req --cache hi
	[ "$(params '.params.cache_control' <<<"$output")" = '{"type":"ephemeral"}' ]
	run req --cache=1h hi
	[ "$(params '.params.cache_control' <<<"$output")" = '{"type":"ephemeral","ttl":"1h"}' ]
	run req --cache=5m hi
	[ "$(params '.params.cache_control' <<<"$output")" = '{"type":"ephemeral"}' ]
	# The system prompt is marked too, in the block form.
	run req --cache=1h -s 'be brief' hi
	json_eq "$(params '.params.system' <<<"$output")" \
		'[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral","ttl":"1h"}}]'
}

@test "caching through the emulator; ca-render shows the cache hit ratio" {
	long=$(printf 'The same long instructions. %.0s' $(seq 200))
	# The same system prompt, another question: the second reads the
	# system prompt from the cache.
	{ req --cache -i c1 -s "$long" 'question one'; req --cache -i c2 -s "$long" 'question two'; } >r.ndjson
	run --separate-stderr ca-exec <r.ndjson
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | tail -1 | jq -c .body.cache_control)" = '{"type":"ephemeral"}' ]
	second=$(jq -c 'select(.custom_id == "c2" and .type == "response") | .message.usage' <<<"$output")
	[ "$(jq -r .cache_read_input_tokens <<<"$second")" -gt 0 ]
	rendered=$(ca-render --color=never <<<"$output")
	[[ "$rendered" == *"cache hit ratio: "*"% of input tokens read from the cache"* ]]
	# The ratio is the reads over all input, as the summary's figures say.
	in=$(jq -r '.input_tokens + .cache_creation_input_tokens + .cache_read_input_tokens' <<<"$second")
	pct=$(( ($(jq -r .cache_read_input_tokens <<<"$second") * 100 + in / 2) / in ))
	[[ "$(sed -n '/Summary of turn c2/,/estimated/p' <<<"$rendered")" == *"cache hit ratio: $pct%"* ]]
	# No cache use, no ratio line.
	run ca-render --color=never <<<"$(tail -1 <<<"$output" | jq -c '.message.usage = {"input_tokens":5,"output_tokens":1}')"
	[[ "$output" != *"cache hit ratio"* ]]
}

# ---- Thinking and effort ----

@test "--thinking: adaptive where the model has it, a budget elsewhere" {
	run req --thinking hi
	[ "$(params '.params.thinking' <<<"$output")" = '{"type":"adaptive"}' ]
	run req --thinking=adaptive -m claude-opus-4-7 hi
	[ "$(params '.params.thinking' <<<"$output")" = '{"type":"adaptive"}' ]
	run req -m claude-haiku-4-5 --thinking hi
	[ "$(params '.params.thinking' <<<"$output")" = '{"type":"enabled","budget_tokens":2048}' ]
	run req -m claude-haiku-4-5 -M 8000 --thinking=3000 hi
	[ "$(params '.params.thinking' <<<"$output")" = '{"type":"enabled","budget_tokens":3000}' ]
}

@test "--thinking warns where it is deprecated" {
	run --separate-stderr req -m claude-opus-4-6 --thinking=2000 hi
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"deprecated on claude-opus-4-6"* ]]
}

@test "--effort sets output_config.effort where the model has it" {
	run req --effort low hi
	[ "$(params '.params.output_config' <<<"$output")" = '{"effort":"low"}' ]
	person_schema
	run req --effort max --schema person.json hi
	[ "$(params '.params.output_config | keys' <<<"$output")" = '["effort","format"]' ]
}

@test "--continue sends thinking blocks back verbatim, signatures included" {
	req -i r1 --thinking 'first' >t.ndjson
	cat >>t.ndjson <<-'EOF'
	{"type":"response","custom_id":"r1","part":1,"request_id":"req_1","attempts":1,"message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"thinking","thinking":"Let me think \u00e9 \"quoted\"\n","signature":"EqQBCkgIARABGAIiQL+/=="},{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3p"},{"type":"text","text":"ok"}],"stop_reason":"end_turn","container":null,"usage":{"input_tokens":1,"output_tokens":1}}}
	EOF
	run --separate-stderr ca-request -C 'second' <t.ndjson
	[ "$status" -eq 0 ]
	json_eq "$(params '.params.messages[1].content' <<<"$output")" \
		"$(tail -1 t.ndjson | jq -c .message.content)"
	[ "$(params '.params.thinking' <<<"$output")" = '{"type":"adaptive"}' ]
}

@test "thinking through the emulator: signed blocks survive --continue, altered ones are refused" {
	ca-request -n --thinking 'think about it' | ca-exec >t.ndjson
	sig=$(jq -r 'select(.type == "response") | .message.content[] | select(.type == "thinking") | .signature' t.ndjson)
	[ -n "$sig" ]
	run --separate-stderr bash -c 'ca-request -C again <t.ndjson | ca-exec'
	[ "$status" -eq 0 ]
	[ "$(emu_log /v1/messages | tail -1 | jq -r '.body.messages[1].content[0].signature')" = "$sig" ]
	sed 's/"thinking":"The/"thinking":"Xhe/' t.ndjson >bad.ndjson
	refute cmp -s t.ndjson bad.ndjson
	run --separate-stderr bash -c 'ca-request -C again <bad.ndjson | ca-exec'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"signature"* ]]
	# --no-thinking leaves it out of the view, not out of the records.
	[[ "$(ca-render --color=never <t.ndjson)" == *"thinking: "* ]]
	[[ "$(ca-render --color=never --no-thinking <t.ndjson)" != *"thinking: "* ]]
}

@test "ca-render shows thinking dimmed, and --no-thinking hides it" {
	cat >th.ndjson <<-'EOF'
	{"type":"response","custom_id":"t1","part":1,"request_id":"req_t","attempts":1,"message":{"id":"msg_t","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"thinking","thinking":"pondering deeply","signature":"sig"},{"type":"redacted_thinking","data":"xx"},{"type":"text","text":"The answer."}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}}
	EOF
	run ca-render --color=always <th.ndjson
	[[ "$output" == *$'\e[2mthinking: '*"pondering deeply"* ]]
	run ca-render --color=never --no-thinking <th.ndjson
	[[ "$output" != *pondering* ]]
	[[ "$output" != *"redacted thinking"* ]]
	[[ "$output" == *"The answer."* ]]
	run ca-render -f markdown --no-thinking <th.ndjson
	[[ "$output" != *pondering* ]]
}

# ---- -P ----

@test "-P sets any other top-level field from JSON" {
	run --separate-stderr req -P 'metadata={"user_id":"cron"}' -P 'service_tier="auto"' \
		-P 'stop_sequences=["END"]' -P 'inference_geo="eu"' -P 'service_tier="standard_only"' hi
	[ "$status" -eq 0 ]
	json_eq "$(params '.params | {metadata, service_tier, stop_sequences, inference_geo}' <<<"$output")" \
		'{"metadata":{"user_id":"cron"},"service_tier":"standard_only","stop_sequences":["END"],"inference_geo":"eu"}'
	ca-exec <<<"$output" >/dev/null
	[ "$(emu_log /v1/messages | tail -1 | jq -c .body.metadata)" = '{"user_id":"cron"}' ]
}

# ---- Models ----

@test "the tools and the emulator agree on every model of the table, today" {
	local m ok served=0 refused=0
	for m in $(tsv_models all); do
		ok=0
		ca-request -n -m "$m" hi </dev/null >req 2>/dev/null && ok=1
		# The emulator hears of it even when ca-request refuses it.
		jq -cn --arg m "$m" '{type: "request", custom_id: "r", params: {model: $m, max_tokens: 64, messages: [{role: "user", content: "hi"}]}}' >raw
		ca-exec <raw >out 2>/dev/null || true
		if [ "$ok" -eq 1 ]; then
			jq -e 'select(.type == "response")' out >/dev/null || { echo "emulator refused $m"; return 1; }
			served=$((served + 1))
		else
			jq -e 'select(.type == "error") | .status == 404' out >/dev/null || { echo "emulator served $m"; return 1; }
			refused=$((refused + 1))
		fi
	done
	echo "served $served refused $refused"
	[ "$served" -ge 15 ]
	[ "$refused" -ge 2 ]
}

@test "a deprecated model draws one warning with its end of life" {
	run --separate-stderr req -m claude-opus-4-5 hi
	[ "$status" -eq 0 ]
	[ "$stderr" = "ca-request: claude-opus-4-5 is deprecated and reaches its end of life on 2027-01-22; please move to a newer model" ]
	run --separate-stderr req -m claude-opus-5-5 hi
	[ -z "$stderr" ]
}

@test "--any-model takes a model past its end of life, with a warning" {
	run --separate-stderr req --any-model -m claude-mythos-preview hi
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"deprecated"* ]]
}

# ---- ca-exec --count ----

@test "ca-exec --count posts to count_tokens and writes count records" {
	{ req -i a 'one'; req -i b -P 'metadata={"user_id":"u"}' 'two'; } >r.ndjson
	run --separate-stderr ca-exec --count <r.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"$output" | tr '\n' ' ')" = "request count request count " ]
	n=$(sed -n 2p <<<"$output" | jq -r .input_tokens)
	[ "$n" -gt 0 ]
	json_eq "$(sed -n 2p <<<"$output" | jq -c 'del(.input_tokens)')" '{"type":"count","custom_id":"a"}'
	[ "$(emu_log /v1/messages/count_tokens | wc -l)" -eq 2 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 0 ]
	[ "$(emu_log /v1/messages/count_tokens | tail -1 | jq -c '.body | has("max_tokens"), has("metadata")' | tr '\n' ' ')" = "false false " ]
	rendered=$(ca-render --color=never <<<"$output")
	[[ "$rendered" == *"count a: $n input tokens"* ]]
}

# ---- ca-exec --max-cost ----

@test "a model without a price is said only to a run with --max-cost" {
	msg='{"id":"msg_1","type":"message","role":"assistant","model":"claude-future-9","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}'
	emu_fault "[{\"path\":\"/v1/messages\",\"status\":200,\"times\":2,\"body\":$msg,\"headers\":{\"content-type\":\"application/json\"}}]"
	req -i a hi >r.ndjson
	run --separate-stderr ca-exec <r.ndjson
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr ca-exec --max-cost 1 <r.ndjson
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"no price for model claude-future-9"* ]]
}

@test "ca-exec --max-cost stops a run of many requests at the cap" {
	for i in 1 2 3 4 5 6 7 8; do req -i "q$i" "run:
\`\`\`python
print($i)
\`\`\`"; done >r.ndjson
	# One response here costs about $0.0049 (tokens and, as it runs
	# code, a container's five-minute minimum), so a cap of 1.2 cents
	# lets three start.
	run --separate-stderr ca-exec --max-cost 0.012 <r.ndjson
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | tr '\n' ' ')" = "q1 q2 q3 " ]
	[ "$(jq -r 'select(.type == "error") | .custom_id + ":" + .error.type' <<<"$output" | tr '\n' ' ')" = \
		"q4:budget_exceeded q5:budget_exceeded q6:budget_exceeded q7:budget_exceeded q8:budget_exceeded " ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 3 ]
	[[ "$stderr" == *"q4: budget_exceeded: not sent: an estimated \$"*"reaches --max-cost \$0.0120"* ]]
	# The estimate agrees with ca-render's.
	spent=$(ca-render --color=never <<<"$output" | grep -o 'estimated cost: \$[0-9.]*' | tail -1)
	[[ "$stderr" == *"an estimated ${spent#estimated cost: }"* ]]
}

@test "ca-exec --max-cost charges no container minimum to turns that ran no code" {
	for i in 1 2 3 4 5 6 7 8; do req -i "q$i" "say $i"; done >r.ndjson
	# About $0.0016 each in tokens alone: a cap of 0.6 cents lets four
	# start (with a container minimum, $0.0058 each, it let two).
	run --separate-stderr ca-exec --max-cost 0.006 <r.ndjson
	[ "$status" -eq 1 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | tr '\n' ' ')" = "q1 q2 q3 q4 " ]
	spent=$(ca-render --color=never <<<"$output" | grep -o 'estimated cost: \$[0-9.]*' | tail -1)
	[[ "$stderr" == *"an estimated ${spent#estimated cost: }"* ]]
}

@test "ca-exec --max-cost: a cap not reached changes nothing" {
	for i in 1 2; do req -i "q$i" "say $i"; done >r.ndjson
	run --separate-stderr ca-exec --max-cost 5 <r.ndjson
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.type == "response") | .custom_id' <<<"$output" | wc -l)" -eq 2 ]
	run --separate-stderr ca-exec --max-cost 0 <r.ndjson
	[ "$status" -eq 1 ]
	[ "$(emu_log /v1/messages | wc -l)" -eq 2 ]
}

# ---- The official SDK's shapes ----

@test "every request ca-request builds type-checks against the SDK's shapes" {
	person_schema
	export DOCS_TOKEN=x
	{
		req hi
		req --skill xlsx --skill custom:skill_01A@skver_1 hi
		req -W search -W fetch --web-domains a.org --web-max-uses 2 hi
		req -W search --web-block b.org -m claude-haiku-4-5 hi
		req -T code_execution_20250825 -W search -W fetch hi
		req --mcp https://m.example/sse,name=m --mcp-token-env DOCS_TOKEN hi
		req --schema person.json --effort high hi
		req --cache=1h hi
		req --thinking hi
		req -m claude-haiku-4-5 --thinking=1500 hi
		req -P 'metadata={"user_id":"u"}' -P 'service_tier="auto"' -P 'stop_sequences=["x"]' hi
		req --skill pdf -W fetch --mcp https://m.example/x --schema person.json --cache --thinking --effort low hi
	} >all.ndjson
	run shapes <all.ndjson
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The checker itself fails on shapes the SDK does not have.
	run shapes <<<'{"type":"request","custom_id":"x","betas":[],"params":{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"output_config":{"format":{"type":"json_schema","name":"p","schema":{}}},"mcp_servers":[],"thinking":{"type":"enabled","budget_tokens":100}}}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"output_config.format.name"* ]]
	[[ "$output" == *"mcp_servers: a beta field"* ]]
	[[ "$output" == *"budget_tokens"* ]]
}

# ---- The examples ----

# The indented commands of the README's section on these flags, one per
# line (continuations joined).
readme_examples() {
	sed -n '/^## Beyond code execution/,/^### Shell completion/p' "$CA_ROOT/README.md" |
		grep '^    ' | sed 's/^    //' | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta'
}

@test "the README's and ca-request(1)'s examples of these flags run against the emulator" {
	person_schema
	# The client-tool example runs in demo/: its files, here.
	cp "$CA_ROOT"/demo/sales-db.json "$CA_ROOT"/demo/sales-db.sh \
	    "$CA_ROOT"/demo/sales-db.md "$CA_ROOT"/demo/sales.csv .
	export DOCS_TOKEN=tok-x
	{ req -i e1 'one'; req -i e2 'two'; } >requests.ndjson
	n=0
	while IFS= read -r cmd; do
		run --separate-stderr bash -c "$cmd" </dev/null
		[ "$status" -eq 0 ] || { echo "failed ($status): $cmd"; echo "$stderr"; return 1; }
		n=$((n + 1))
	done < <(readme_examples; sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE/p' "$CA_ROOT/man/ca-request.1" |
		sed -n 's/^\.Dl //p' | grep -E -e '--(skill|mcp|schema|thinking)|-W ')
	[ "$n" -ge 11 ]
	# The JSON answer's field came through jq.
	run bash -c "ca-request --schema person.json 'Jane Doe <jane@example.com>' </dev/null | ca-exec | ca-render -r | jq -r .email"
	[ "$output" = text ]
}

@test "the long forms --web and --param are -W and -P" {
	[ "$(req -i a --web search --param 'metadata={"user_id":"a"}' hi)" = \
		"$(req -i a -W search -P 'metadata={"user_id":"a"}' hi)" ]
	[ "$(req --web fetch hi | jq -r '.params.tools[1].name')" = web_fetch ]
}
