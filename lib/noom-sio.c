/* Noom
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "noom-sio.h"
