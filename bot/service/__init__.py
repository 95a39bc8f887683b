"""The webhook service: ``POST /webhook`` stores verified deliveries and answers at once;
workers process them from the store's queue through per-concern routers; a healer asks GitHub
again for deliveries that never arrived. docs/service.md describes settings, events, healing,
metrics and the security model."""

from __future__ import annotations

from bot.service.router import Router
from bot.service.runtime import Service, build_router
from bot.service.settings import ServiceSettings, SettingsError, load_settings

__all__ = ["Router", "Service", "ServiceSettings", "SettingsError", "build_router", "load_settings"]
