/* Noom
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-room: the room model (see noom-room.c). Owned by the server work.
 */
#pragma once
