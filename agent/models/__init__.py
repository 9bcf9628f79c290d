"""The chat models nurture runs on: OpenAI, any OpenAI-compatible server, or the offline one."""

from agent.models.budget import BudgetExceeded, RunBudget, Usage, cost_usd
from agent.models.errors import MODEL_ERRORS, explain_model_error, invalid_tool_calls_error
from agent.models.factory import build_budget, build_chat_model, describe_model, model_name
from agent.models.offline import OfflineChatModel
from agent.models.responders import DEFAULT_RESPONDERS, OfflineModelError

__all__ = [
    "DEFAULT_RESPONDERS",
    "MODEL_ERRORS",
    "BudgetExceeded",
    "OfflineChatModel",
    "OfflineModelError",
    "RunBudget",
    "Usage",
    "build_budget",
    "build_chat_model",
    "cost_usd",
    "describe_model",
    "explain_model_error",
    "invalid_tool_calls_error",
    "model_name",
]
