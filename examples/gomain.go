package main

import "fmt"
import "time"

func main() {
    for true  {
        fmt.Printf("test\n");
		time.Sleep(5 * time.Second);
    }
}
