#include "storage/status.h"

#include <rocksdb/status.h>

namespace parley::storage {

const char* code_name(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kNotFound: return "not found";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kBusy: return "busy";
    case Code::kIOError: return "I/O error";
    case Code::kNoSpace: return "no space";
    case Code::kCorruption: return "corruption";
    case Code::kClosed: return "closed";
  }
  return "unknown";
}

Status Status::from_rocksdb(const rocksdb::Status& s) {
  if (s.ok()) return {};
  Code code = Code::kIOError;
  if (s.IsNotFound()) {
    code = Code::kNotFound;
  } else if (s.IsInvalidArgument() || s.IsNotSupported()) {
    code = Code::kInvalidArgument;
  } else if (s.IsCorruption()) {
    code = Code::kCorruption;
  } else if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit) {
    code = Code::kNoSpace;
  } else if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    // RocksDB reports a held LOCK file as an IOError ("lock hold by current
    // process" / "While lock file: ... Resource temporarily unavailable").
    code = Code::kBusy;
  } else if (s.IsBusy() || s.IsTryAgain()) {
    code = Code::kBusy;
  }
  return {code, s.ToString()};
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(code_name(code_)) + ": " + message_;
}

}  // namespace parley::storage
