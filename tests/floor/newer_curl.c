/* Imports curl_easy_header (libcurl 7.83, newer than RHEL 9's 7.76), as the transport once did: the
 * floor check must refuse it. */
#include <curl/curl.h>
#include <stdio.h>

int main(void)
{
    CURL* curl = curl_easy_init();
    struct curl_header* header = NULL;
    printf("%d\n", (int)curl_easy_header(curl, "Date", 0, CURLH_HEADER, -1, &header));
    curl_easy_cleanup(curl);
    return 0;
}
