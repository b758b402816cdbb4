/* fcgi-hello: the smallest FastCGI responder, the baseline of what this machine allows.
 *
 * Usage: cc -O2 -o fcgi-hello bench/fcgi-hello.c -lfcgi
 *        cc -O2 -DFCGI_HELLO_STOCK -o fcgi-hello-stock bench/fcgi-hello.c -lfcgi
 *        then as a lighttpd fastcgi.server "bin-path" (listen socket on fd 0);
 *        bench/ceiling builds and runs both.
 * Single-threaded: one accept loop answering every request with "hello\n"
 * as text/plain, reading nothing else.
 *
 * By default each request is detached before it is finished, so the
 * connection is closed at once, as bayeux-fcgi does.  With FCGI_HELLO_STOCK
 * it is the plain FCGX_Accept loop, whose finish does libfcgi's lingering
 * close (shutdown, then wait for lighttpd to close its side) before the
 * next accept.
 */
#include <fcgiapp.h>

int main(void)
{
#ifdef FCGI_HELLO_STOCK
    FCGX_Stream *in, *out, *err;
    FCGX_ParamArray envp;

    while (FCGX_Accept(&in, &out, &err, &envp) >= 0)
        FCGX_PutS("Content-Type: text/plain\r\n\r\nhello\n", out);
#else
    FCGX_Request req;

    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutS("Content-Type: text/plain\r\n\r\nhello\n", req.out);
        FCGX_Detach(&req);   /* finish flushes and closes without lingering */
        FCGX_Finish_r(&req);
    }
#endif
    return 0;
}
