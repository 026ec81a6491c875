/*
 * ferry.h - the one public header of ferry.
 *
 * Include this and nothing else; anything not declared by the headers it
 * pulls in is private and may change without notice.
 */
#ifndef FERRY_H
#define FERRY_H

#include "ferry/error.h"
#include "ferry/cbor.h"
#include "ferry/blob.h"
#include "ferry/schema.h"
#include "ferry/actor.h"

#endif /* FERRY_H */
