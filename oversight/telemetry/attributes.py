"""Span attribute names: OpenTelemetry GenAI conventions, OpenInference, and our own `oversight.*`.

The GenAI conventions are still in Development status, so every name we emit lives here and
nowhere else: when they move, one file changes.
"""

from __future__ import annotations

from typing import Final

# Longest string attribute value we send; longer values are cut and marked.
MAX_ATTRIBUTE_CHARS: Final = 8192
# Longest list attribute (flags, targets); the rest are dropped.
MAX_ATTRIBUTE_ITEMS: Final = 256

# OpenTelemetry GenAI semantic conventions (agent and tool spans).
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
ERROR_TYPE: Final = "error.type"

OP_INVOKE_AGENT: Final = "invoke_agent"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_CHAT: Final = "chat"
TOOL_TYPE_FUNCTION: Final = "function"

# OpenInference (Arize Phoenix and other OpenInference readers).
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
SESSION_ID: Final = "session.id"
INPUT_VALUE: Final = "input.value"
INPUT_MIME_TYPE: Final = "input.mime_type"
OUTPUT_VALUE: Final = "output.value"
OUTPUT_MIME_TYPE: Final = "output.mime_type"
TOOL_NAME: Final = "tool.name"
LLM_MODEL_NAME: Final = "llm.model_name"
LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL: Final = "llm.token_count.total"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
METADATA: Final = "metadata"

KIND_AGENT: Final = "AGENT"
KIND_TOOL: Final = "TOOL"
KIND_LLM: Final = "LLM"
KIND_GUARDRAIL: Final = "GUARDRAIL"
MIME_JSON: Final = "application/json"
MIME_TEXT: Final = "text/plain"

# Ours: the audit facts a reviewer filters on, keyed like the stored records.
OVERSIGHT_KIND: Final = "oversight.kind"
OVERSIGHT_SEQ: Final = "oversight.seq"
OVERSIGHT_STEP_ID: Final = "oversight.step_id"
OVERSIGHT_PARENT_ID: Final = "oversight.parent_id"
OVERSIGHT_ACTOR: Final = "oversight.actor"
OVERSIGHT_ARGS_DIGEST: Final = "oversight.args_digest"
OVERSIGHT_DECISION: Final = "oversight.decision"
OVERSIGHT_DECISION_REASON: Final = "oversight.decision_reason"
OVERSIGHT_RULE: Final = "oversight.rule"
OVERSIGHT_POLICY: Final = "oversight.policy"
OVERSIGHT_POLICY_HASH: Final = "oversight.policy_hash"
OVERSIGHT_REASON: Final = "oversight.reason"
OVERSIGHT_FLAGS: Final = "oversight.flags"
OVERSIGHT_TARGETS: Final = "oversight.targets"
OVERSIGHT_WRITE_AHEAD: Final = "oversight.write_ahead"
OVERSIGHT_STATUS: Final = "oversight.status"
OVERSIGHT_RESULT_DIGEST: Final = "oversight.result_digest"
OVERSIGHT_ERROR: Final = "oversight.error"
OVERSIGHT_AUTONOMY_SCORE: Final = "oversight.autonomy.score"
OVERSIGHT_AUTONOMY_SCENARIO: Final = "oversight.autonomy.scenario"
OVERSIGHT_APPROVAL_ID: Final = "oversight.approval_id"
OVERSIGHT_APPROVED_BY: Final = "oversight.approved_by"
OVERSIGHT_STEPS: Final = "oversight.steps"
OVERSIGHT_DECIDED_BY: Final = "oversight.decided_by"
OVERSIGHT_REVIEWERS: Final = "oversight.reviewers"
OVERSIGHT_REVIEW_WAIT_MS: Final = "oversight.review_wait_ms"
OVERSIGHT_REFUSED_STEPS: Final = "oversight.refused_steps"
OVERSIGHT_ALERT_REASON: Final = "oversight.alert.reason"

# Span events: a gated step's request to people and their answer, and alerts.
EVENT_APPROVAL_REQUESTED: Final = "oversight.approval.requested"
EVENT_APPROVAL_DECIDED: Final = "oversight.approval.decided"
EVENT_ALERT: Final = "oversight.alert"
APPROVAL_DECISION: Final = "oversight.approval.decision"
# The id of the record that opened the span (session.started or step.proposed) ...
OVERSIGHT_RECORD_ID: Final = "oversight.record_id"
# ... and of the record that closed it (session.ended or step.finished).
OVERSIGHT_OUTCOME_RECORD_ID: Final = "oversight.outcome_record_id"

# The span that shows, when it happens, that a step waits for people (its own span is exported
# once they answer).
CHECKPOINT_SPAN: Final = "checkpoint"
# oversight.status of that span: what happened at its moment (the step's own span says how the
# wait ended).
STATUS_APPROVAL_REQUESTED: Final = "approval_requested"
# A link from a call that resumes one deferred to people, and what it says.
OVERSIGHT_LINK: Final = "oversight.link"
LINK_RESUMES: Final = "resumes"

# oversight.status of a step or session whose outcome was never recorded.
STATUS_INTERRUPTED: Final = "interrupted"
INTERRUPTED_DESCRIPTION: Final = "interrupted: no outcome recorded"
