/*
 * RFC 1813 section 5.1:
 *   const MNTPATHLEN = 1024;  const MNTNAMLEN = 255;  const FHSIZE3 = 64;
 *   typedef opaque fhandle3<FHSIZE3>;
 *   typedef string dirpath<MNTPATHLEN>;
 *   typedef string name<MNTNAMLEN>;
 */
export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;
export const FHSIZE3 = 64;
