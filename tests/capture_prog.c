/* A program that knows nothing of ringlog, for tests/capture.sh: it writes
 * to stderr in every way a C program does, from 3 threads and a child, and
 * checks that errno and return values are untouched by the capture. */
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

static int failed;

static void *thread_lines(void *arg)
{
    int t = (int)(long)arg;
    for (int i = 0; i < 100; i++)
        fprintf(stderr, "thread %d line %d\n", t, i);
    return NULL;
}

int main(void)
{
    if (fileno(stderr) != 2) {
        printf("fileno(stderr) is %d under capture\n", fileno(stderr));
        failed = 1;
    }
    fprintf(stderr, "plain fprintf\n");
    fputs("par", stderr);
    fputs("tial ", stderr);
    fputs("line\n", stderr);
    errno = 0;
    ssize_t r = write(2, "raw write\n", 10);
    if (r != 10 || errno != 0) {
        printf("write returned %zd, errno %d\n", r, errno);
        failed = 1;
    }
    errno = ENOENT;
    perror("perror says");
    if (errno != ENOENT) {
        printf("errno changed by perror under capture\n");
        failed = 1;
    }
    errno = EACCES;
    warn("warn says");
    warnx("warnx says %d", 42);
    openlog("capture_prog", LOG_PID, LOG_USER);
    syslog(LOG_ERR, "syslog error %d", 7);
    syslog(LOG_INFO, "syslog info");
    errno = EPERM;
    fprintf(stderr, "errno kept\n");
    if (errno != EPERM) {
        printf("errno changed by fprintf under capture\n");
        failed = 1;
    }
    pthread_t th[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, thread_lines, (void *)i);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        fprintf(stderr, "from the child\n");
        _exit(0);
    }
    waitpid(k, NULL, 0);
    printf("stdout line\n");
    fprintf(stderr, "no newline at the end");
    return failed ? 3 : 0;
}
