// Debian's libxxhash (libxxhash-dev): XXH3-128's streaming API, the changed-file check's hash.
#include <xxhash.h>
