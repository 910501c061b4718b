/*
 * NAME		postern.h - postern command private interface
 */
#ifndef POSTERN_POSTERN_H
#define POSTERN_POSTERN_H

int	 postern_check(int);

#endif
