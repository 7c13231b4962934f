#include "beskid/objmodel.h"
