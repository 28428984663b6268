"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ATTR_SECRET_STORE_KIND = exports.ATTR_K8S_VOLUME_TYPE_VALUE_PERSISTENT_VOLUME_CLAIM = exports.ATTR_TOKEN_USAGE_INPUT = void 0;
exports.ATTR_TOKEN_USAGE_INPUT = "gen_ai.usage.input_tokens";
