// The SDK's host functions, handed to plugins through get_api() by name.
#pragma once

namespace parley::kernel::host {

// The parley_get_api_fn given to every plugin's init: 0 and *fn_out set, or
// PARLEY_ENOTSUP and *fn_out = NULL for a name this host does not have.
int get_api(const char* name, void** fn_out);

}  // namespace parley::kernel::host
