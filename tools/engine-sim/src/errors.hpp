// qix-engine-sim: the error codes it sends, named after their LOCERR entries. Their texts come from the
// table libqix generates from the engine spec (qix_spec: core/rpc/locerr.hpp), the one the client reads.
// Thread safety: constants and a look-up in immutable static data.
#pragma once

#include <string_view>

namespace qix::sim::locerr {

inline constexpr int kParseError = -32700;         // LOCERR_JSON_RPC_PARSE_ERROR
inline constexpr int kInvalidRequest = -32600;     // LOCERR_JSON_RPC_INVALID_REQUEST
inline constexpr int kMethodNotFound = -32601;     // LOCERR_JSON_RPC_METHOD_NOT_FOUND
inline constexpr int kInvalidParameters = -32602;  // LOCERR_JSON_RPC_INVALID_PARAMETERS
inline constexpr int kInternalError = -32603;      // LOCERR_JSON_RPC_INTERNAL_ERROR
inline constexpr int kNotFound = 2;                // LOCERR_GENERIC_NOT_FOUND (also sent for "object exists")
inline constexpr int kAborted = 15;                // LOCERR_GENERIC_ABORTED
inline constexpr int kAppAlreadyOpen = 1002;       // LOCERR_APP_ALREADY_OPEN
inline constexpr int kAppNotFound = 1003;          // LOCERR_APP_NOT_FOUND
inline constexpr int kAppInvalid = 1007;           // LOCERR_APP_INVALID (no active document)
inline constexpr int kCalcInvalidDef = 7000;       // LOCERR_CALC_INVALID_DEF
inline constexpr int kCalcTooLarge = 7003;         // LOCERR_CALC_TOO_LARGE
inline constexpr int kCalcPagesTooLarge = 7009;    // LOCERR_CALC_PAGES_TOO_LARGE

/// Every code the simulator sends; it sends no other.
inline constexpr int kSent[] = {kParseError,       kInvalidRequest, kMethodNotFound, kInvalidParameters,
                                kInternalError,    kNotFound,       kAborted,        kAppAlreadyOpen,
                                kAppNotFound,      kAppInvalid,     kCalcInvalidDef, kCalcTooLarge,
                                kCalcPagesTooLarge};

/// The engine's text for `code`, from the shared LOCERR table (a code the table lacks gets the text of
/// kInternalError; tests prove every code of kSent is in the table).
std::string_view message(int code);

}  // namespace qix::sim::locerr
